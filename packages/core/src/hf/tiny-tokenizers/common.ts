// Shared pieces of the tiny causal-LM tokenizer folders in the layouts Hugging Face writes, for tests and tiny checkpoints:
// - byte-level BPE (GPT-2 / OPT): transformers' GPT2Converter (src/transformers/convert_slow_tokenizer.py)
//   gives ByteLevel pre-tokenizer and decoder, and a post-processor that is ByteLevel(trim_offsets=False)
//   for GPT-2 and TemplateProcessing "{bos}:0 $A:0" when the slow tokenizer has add_bos_token (OPT:
//   facebook/opt-* tokenizer_config.json sets add_bos_token true and bos = eos = unk = "</s>", pad "<pad>").
// - Llama (LlamaTokenizerFast): SentencePiece BPE with byte_fallback (<0x00>…<0xFF> at ids 3–258 after
//   <unk> <s> </s>), as LlamaConverter writes it (convert_slow_tokenizer.py): the Llama-2 tokenizer.json
//   uses the legacy normalizer Sequence[Prepend("▁"), Replace(" ", "▁")] with no pre-tokenizer; newer
//   conversions (legacy=false) use the Metaspace pre-tokenizer with prepend_scheme "first". Both are offered.
// The merges are learned here on a small corpus (the shapes world's words) so every corpus word is one token.

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

/** transformers' VERY_LARGE_INTEGER, written as model_max_length when a tokenizer has no limit. */
export const NO_MAX_LENGTH = 1000000000000000019884624838656;

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
export function byteLevelAlphabet(): string[] {
  return [...bytesToUnicode()].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
}

/** GPT-2's pre-tokenization regex (tokenization_gpt2.py `pat`), as the ByteLevel pre-tokenizer uses it. */
export const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/**
 * Learns BPE merges on words given as symbol sequences: the most frequent adjacent pair first, ties
 * broken by the pair's text so the result is deterministic; stops when every word is one symbol.
 */
export function learnMerges(words: readonly string[][], maxMerges: number): [string, string][] {
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

export const encodeJson = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);

/** An added_tokens entry of tokenizer.json. */
export const addedToken = (id: number, content: string, normalized: boolean) => ({
  id,
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized,
  special: true,
});

/** An added_tokens_decoder entry of tokenizer_config.json (save_pretrained's layout). */
export const decoderEntry = (content: string, normalized: boolean) => ({
  content,
  lstrip: false,
  normalized,
  rstrip: false,
  single_word: false,
  special: true,
});

/** A special_tokens_map.json entry (an AddedToken without `special`). */
export const mapEntry = (content: string, normalized: boolean) => ({
  content,
  lstrip: false,
  normalized,
  rstrip: false,
  single_word: false,
});

/** TemplateProcessing that puts `bos` before each sequence (and `eos` after, when given). */
export function templateProcessing(bos: [string, number] | undefined, eos: [string, number] | undefined) {
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
