// Llama tokenizer folders (LlamaTokenizerFast: SentencePiece BPE with byte fallback) in the layout
// transformers' LlamaConverter writes (convert_slow_tokenizer.py); see common.ts for the shared pieces.
import {
  NO_MAX_LENGTH,
  learnMerges,
  encodeJson,
  addedToken,
  decoderEntry,
  mapEntry,
  templateProcessing,
  SHAPES_TOKENIZER_CORPUS,
} from './common';

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
