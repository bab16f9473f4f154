// The `<image>` token of a LLaVA composed from a language model that never saw one. LLaVA's
// training code (and the llava-hf conversion script, transformers
// src/transformers/models/llava/convert_llava_weights_to_hf.py) adds it to the tokenizer as a special
// added token and grows the input embeddings (and an untied lm_head) by one row; since transformers
// 4.46 `resize_token_embeddings` initialises added rows from the old rows' mean
// (src/transformers/modeling_utils.py, _init_added_embeddings_weights_with_mean /
// _init_added_lm_head_weights_with_mean / _init_added_lm_head_bias_with_mean).
import { MmftError } from '@mmft/core';

export const IMAGE_TOKEN = '<image>';

type Json = Record<string, unknown>;

function parse(bytes: Uint8Array, file: string): Json {
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as Json;
  } catch (error) {
    throw new MmftError('E_CONFIG', `${file} is not valid JSON`, { cause: error });
  }
}

/** `<image>`'s id in a tokenizer.json, or undefined; and the largest id the tokenizer uses. */
export function findTokenId(tokenizerJson: Uint8Array, token: string, file = 'tokenizer.json'): { id?: number; maxId: number } {
  const json = parse(tokenizerJson, file);
  let maxId = -1;
  let id: number | undefined;
  const added = Array.isArray(json.added_tokens) ? (json.added_tokens as { id?: unknown; content?: unknown }[]) : [];
  for (const t of added) {
    if (typeof t.id !== 'number') continue;
    maxId = Math.max(maxId, t.id);
    if (t.content === token) id = t.id;
  }
  const vocab = (json.model as { vocab?: unknown } | undefined)?.vocab;
  if (Array.isArray(vocab)) {
    // Unigram: [[piece, score], ...], the id is the index.
    maxId = Math.max(maxId, vocab.length - 1);
    const at = vocab.findIndex((entry) => Array.isArray(entry) && entry[0] === token);
    if (id === undefined && at >= 0) id = at;
  } else if (vocab && typeof vocab === 'object') {
    for (const [piece, value] of Object.entries(vocab as Record<string, unknown>)) {
      if (typeof value !== 'number') continue;
      maxId = Math.max(maxId, value);
      if (id === undefined && piece === token) id = value;
    }
  }
  return id === undefined ? { maxId } : { id, maxId };
}

/** The added-token entry tokenizers and transformers write for a special token that is not normalised. */
const addedEntry = (content: string) => ({ content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true });

/**
 * The tokenizer files with `token` added as a special added token of id `id`: appended to
 * tokenizer.json's `added_tokens` and tokenizer_config.json's `added_tokens_decoder`, as
 * `tokenizer.add_tokens(AddedToken(token, special=True, normalized=False))` followed by
 * save_pretrained writes them. Other files are passed through.
 *
 * @example
 * const files = withAddedToken(await readTokenizerFiles('models/llama-shapes-base'), '<image>', 654);
 */
export function withAddedToken(files: ReadonlyMap<string, Uint8Array>, token: string, id: number): Map<string, Uint8Array> {
  const out = new Map(files);
  const encode = (json: Json) => new TextEncoder().encode(`${JSON.stringify(json, null, 2)}\n`);
  const tokenizer = files.get('tokenizer.json');
  if (!tokenizer) throw new MmftError('E_CONFIG', `cannot add ${token}: the tokenizer has no tokenizer.json`);
  const json = parse(tokenizer, 'tokenizer.json');
  const added = Array.isArray(json.added_tokens) ? [...(json.added_tokens as unknown[])] : [];
  added.push({ id, ...addedEntry(token) });
  out.set('tokenizer.json', encode({ ...json, added_tokens: added }));
  const configBytes = files.get('tokenizer_config.json');
  if (configBytes) {
    const config = parse(configBytes, 'tokenizer_config.json');
    const decoder = (config.added_tokens_decoder ?? {}) as Json;
    out.set('tokenizer_config.json', encode({ ...config, added_tokens_decoder: { ...decoder, [String(id)]: addedEntry(token) } }));
  }
  return out;
}

/**
 * `data` [rows, ...rest] with `added` rows appended, each the mean of the old rows (float64 sums).
 * transformers draws the added rows from N(mean, 1e-9 · covariance of the old rows), a spread of
 * about 3·10⁻⁵ of the rows' own std, and falls back to the mean itself when that covariance is
 * not positive definite; the mean is the deterministic centre of that draw.
 *
 * @example
 * appendMeanRows(new Float32Array([1, 2, 3, 4]), [2, 2], 1); // [1, 2, 3, 4, 2, 3]
 */
export function appendMeanRows(data: Float32Array, shape: readonly number[], added: number): Float32Array {
  const rows = shape[0]!;
  const width = rows === 0 ? 0 : data.length / rows;
  const mean = new Float64Array(width);
  for (let r = 0; r < rows; r++) for (let j = 0; j < width; j++) mean[j]! += data[r * width + j]!;
  for (let j = 0; j < width; j++) mean[j]! /= rows;
  const out = new Float32Array(data.length + added * width);
  out.set(data);
  for (let a = 0; a < added; a++) for (let j = 0; j < width; j++) out[data.length + a * width + j] = mean[j]!;
  return out;
}
