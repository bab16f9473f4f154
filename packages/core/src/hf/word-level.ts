// Builds a small word-level tokenizer in the Hugging Face `tokenizers` serialisation (tokenizer.json
// format 1.0: WordLevel model, NFC + Lowercase normaliser, whitespace split with CJK characters and
// punctuation isolated, TemplateProcessing adding <|startoftext|> … <|endoftext|>), with the
// tokenizer_config.json / special_tokens_map.json that transformers' save_pretrained writes.
// Field layouts follow huggingface/tokenizers (bindings/python serialisation) and transformers'
// tokenization_utils_base.py; the special-token layout copies openai/clip-vit-base-patch32.

/** Chinese (CJK unified ideographs + extension A) and punctuation become one token each. */
export const ISOLATED_CHARS = '[\u4e00-\u9fff\u3400-\u4dbf]|[.,!?;:\uff0c\u3002\u3001\uff01\uff1f\uff1b\uff1a]';
const ISOLATED = new RegExp(ISOLATED_CHARS, 'gu');

/** Options of `buildWordLevelTokenizerJson`. */
export interface WordLevelOptions {
  /** Lowercase before lookup, as CLIP's tokenizer does (default true). */
  lowercase?: boolean;
  /** Token for words outside the vocabulary (default '<|unk|>'; id 0). */
  unkToken?: string;
  bosToken?: string;
  eosToken?: string;
  /** Longest sequence the model takes, written as model_max_length (default 77). */
  modelMaxLength?: number;
}

/** The special tokens and their ids in a built tokenizer. */
export interface WordLevelIds {
  unk: number;
  bos: number;
  eos: number;
  /** Padding uses the eos token, as openai's CLIP tokenizer does. */
  pad: number;
  vocabSize: number;
}

/** Splits text the way the built tokenizer's normaliser + pre-tokenizer do. */
export function splitWords(text: string, lowercase = true): string[] {
  const normal = text.normalize('NFC');
  const cased = lowercase ? normal.toLowerCase() : normal;
  return cased
    .replace(ISOLATED, ' $& ')
    .split(/\s+/u)
    .filter((w) => w.length > 0);
}

const resolve = (o: WordLevelOptions) => ({
  lowercase: o.lowercase ?? true,
  unk: o.unkToken ?? '<|unk|>',
  bos: o.bosToken ?? '<|startoftext|>',
  eos: o.eosToken ?? '<|endoftext|>',
  maxLength: o.modelMaxLength ?? 77,
});

/** unk first, the words in first-seen order, then bos and eos last (eos is the largest id, as in CLIP). */
function vocabulary(words: readonly string[], o: ReturnType<typeof resolve>): Map<string, number> {
  const specials = new Set([o.unk, o.bos, o.eos]);
  const vocab = new Map<string, number>([[o.unk, 0]]);
  for (const entry of words)
    for (const w of splitWords(entry, o.lowercase)) if (!specials.has(w) && !vocab.has(w)) vocab.set(w, vocab.size);
  vocab.set(o.bos, vocab.size);
  vocab.set(o.eos, vocab.size);
  return vocab;
}

const addedToken = (id: number, content: string) => ({
  id,
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized: false,
  special: true,
});

/**
 * An HF-valid tokenizer.json object for `words` (phrases and Chinese words are split into tokens).
 *
 * @example
 * const json = buildWordLevelTokenizerJson(['red circle', '红色圆形']);
 * fs.writeFileSync('tokenizer.json', JSON.stringify(json, null, 2));
 */
export function buildWordLevelTokenizerJson(words: readonly string[], options: WordLevelOptions = {}): Record<string, unknown> {
  const o = resolve(options);
  const vocab = vocabulary(words, o);
  const special = (token: string) => ({ SpecialToken: { id: token, type_id: 0 } });
  const sequence = (id: 'A' | 'B', typeId: number) => ({ Sequence: { id, type_id: typeId } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [addedToken(0, o.unk), addedToken(vocab.get(o.bos)!, o.bos), addedToken(vocab.get(o.eos)!, o.eos)],
    normalizer: { type: 'Sequence', normalizers: o.lowercase ? [{ type: 'NFC' }, { type: 'Lowercase' }] : [{ type: 'NFC' }] },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'WhitespaceSplit' },
        { type: 'Split', pattern: { Regex: ISOLATED_CHARS }, behavior: 'Isolated', invert: false },
      ],
    },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special(o.bos), sequence('A', 0), special(o.eos)],
      pair: [special(o.bos), sequence('A', 0), special(o.eos), sequence('B', 1), special(o.eos)],
      special_tokens: Object.fromEntries([o.bos, o.eos].map((t) => [t, { id: t, ids: [vocab.get(t)!], tokens: [t] }])),
    },
    decoder: null,
    model: { type: 'WordLevel', vocab: Object.fromEntries(vocab), unk_token: o.unk },
  };
}

/**
 * tokenizer.json plus the tokenizer_config.json and special_tokens_map.json transformers writes
 * (tokenizer_class PreTrainedTokenizerFast: CLIPTokenizerFast insists on CLIP's BPE), and the ids.
 *
 * @example
 * const files = buildWordLevelTokenizerFiles(['red', 'circle']);
 * files.ids.eos; // 4
 */
export function buildWordLevelTokenizerFiles(words: readonly string[], options: WordLevelOptions = {}) {
  const o = resolve(options);
  const tokenizerJson = buildWordLevelTokenizerJson(words, options);
  const vocab = (tokenizerJson.model as { vocab: Record<string, number> }).vocab;
  const ids: WordLevelIds = { unk: 0, bos: vocab[o.bos]!, eos: vocab[o.eos]!, pad: vocab[o.eos]!, vocabSize: Object.keys(vocab).length };
  const decoderEntry = (content: string) => ({
    content,
    lstrip: false,
    normalized: false,
    rstrip: false,
    single_word: false,
    special: true,
  });
  const tokenizerConfig = {
    added_tokens_decoder: Object.fromEntries(
      [
        [ids.unk, o.unk],
        [ids.bos, o.bos],
        [ids.eos, o.eos],
      ].map(([id, t]) => [String(id), decoderEntry(t as string)]),
    ),
    bos_token: o.bos,
    clean_up_tokenization_spaces: false,
    do_lower_case: o.lowercase,
    eos_token: o.eos,
    model_max_length: o.maxLength,
    pad_token: o.eos,
    tokenizer_class: 'PreTrainedTokenizerFast',
    unk_token: o.unk,
  };
  const specialTokensMap = { bos_token: o.bos, eos_token: o.eos, pad_token: o.eos, unk_token: o.unk };
  return { tokenizerJson, tokenizerConfig, specialTokensMap, ids };
}

/**
 * The three tokenizer files as name → text, ready to save beside a model (arch-clip's `ClipModel.fromConfig(config, { tokenizerFiles })` takes them).
 *
 * @example
 * const { files, ids } = wordLevelTokenizerFileMap(['red', 'circle', '红色']);
 */
export function wordLevelTokenizerFileMap(
  words: readonly string[],
  options: WordLevelOptions = {},
): { files: Map<string, string>; ids: WordLevelIds } {
  const built = buildWordLevelTokenizerFiles(words, options);
  const text = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
  const files = new Map([
    ['tokenizer.json', text(built.tokenizerJson)],
    ['tokenizer_config.json', text(built.tokenizerConfig)],
    ['special_tokens_map.json', text(built.specialTokensMap)],
  ]);
  return { files, ids: built.ids };
}
