// A special token added to a tokenizer that never had it (LLaVA's and IDEFICS's `<image>` when
// they are composed from a language model that never saw one), and the embedding rows it gains.
// LLaVA's training code and the llava-hf conversion script (transformers
// src/transformers/models/llava/convert_llava_weights_to_hf.py) add `<image>` to the tokenizer as a
// special added token and grow the input embeddings (and an untied lm_head) by one row;
// IdeficsProcessor looks `<image>` up as an added special token with convert_tokens_to_ids
// (src/transformers/models/idefics/processing_idefics.py). Since transformers 4.46
// `resize_token_embeddings` initialises added rows from the old rows' mean
// (src/transformers/modeling_utils.py, _init_added_embeddings_weights_with_mean /
// _init_added_lm_head_weights_with_mean / _init_added_lm_head_bias_with_mean).
import { MmftError } from '../errors';

type Json = Record<string, unknown>;

function parseJson(bytes: Uint8Array, file: string): Json {
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as Json;
  } catch (cause) {
    throw new MmftError('E_CONFIG', `${file} is not valid JSON`, { cause, hint: 'rewrite it with the tokenizer that made it' });
  }
}

/**
 * `token`'s id in a tokenizer.json, or undefined (added tokens first, then the model vocabulary:
 * a BPE/WordPiece map or a Unigram list of [piece, score] whose index is the id), and the largest
 * id the tokenizer uses.
 *
 * @example
 * findTokenId(bytes, '<image>'); // { maxId: 653 } when the tokenizer has no <image>
 */
export function findTokenId(tokenizerJson: Uint8Array, token: string, file = 'tokenizer.json'): { id?: number; maxId: number } {
  const json = parseJson(tokenizerJson, file);
  let maxId = -1;
  let id: number | undefined;
  const added = Array.isArray(json.added_tokens) ? (json.added_tokens as Array<{ id?: unknown; content?: unknown }>) : [];
  for (const entry of added) {
    if (typeof entry.id !== 'number') continue;
    maxId = Math.max(maxId, entry.id);
    if (entry.content === token) id = entry.id;
  }
  const vocab = (json.model as { vocab?: unknown } | undefined)?.vocab;
  if (Array.isArray(vocab)) {
    // Unigram: [[piece, score], ...], the id is the index.
    maxId = Math.max(maxId, vocab.length - 1);
    const at = vocab.findIndex((piece) => Array.isArray(piece) && piece[0] === token);
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
const specialEntry = (content: string) => ({ content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true });

/**
 * The tokenizer files with `token` added as a special, not normalised token of id `id`: appended to
 * tokenizer.json's `added_tokens` and tokenizer_config.json's `added_tokens_decoder`, as
 * `tokenizer.add_tokens(AddedToken(token, special=True, normalized=False))` followed by
 * save_pretrained writes them. Other files pass through.
 *
 * @example
 * const files = withAddedSpecialToken(await readTokenizerFiles('models/llama-shapes-base'), '<image>', 654);
 */
export function withAddedSpecialToken(files: ReadonlyMap<string, Uint8Array>, token: string, id: number): Map<string, Uint8Array> {
  const out = new Map(files);
  const encode = (json: Json) => new TextEncoder().encode(`${JSON.stringify(json, null, 2)}\n`);
  const tokenizer = files.get('tokenizer.json');
  if (!tokenizer) throw new MmftError('E_CONFIG', `cannot add ${token}: the tokenizer folder has no tokenizer.json`);
  const json = parseJson(tokenizer, 'tokenizer.json');
  const added = Array.isArray(json.added_tokens) ? [...(json.added_tokens as unknown[])] : [];
  out.set('tokenizer.json', encode({ ...json, added_tokens: [...added, { id, ...specialEntry(token) }] }));
  const configBytes = files.get('tokenizer_config.json');
  if (configBytes) {
    const config = parseJson(configBytes, 'tokenizer_config.json');
    const decoder = (config.added_tokens_decoder ?? {}) as Json;
    out.set('tokenizer_config.json', encode({ ...config, added_tokens_decoder: { ...decoder, [String(id)]: specialEntry(token) } }));
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
 * appendMeanRows(new Float32Array([1, 2, 3, 4]), 2); // [1, 2, 3, 4, 2, 3]
 * appendMeanRows(new Float32Array([1, 2]), 2, 2); // a vector (bias): [1, 2, 1.5, 1.5]
 */
export function appendMeanRows(data: Float32Array, rows: number, added = 1): Float32Array {
  const width = rows === 0 ? 0 : data.length / rows;
  const mean = new Float64Array(width);
  for (let r = 0; r < rows; r++) for (let j = 0; j < width; j++) mean[j]! += data[r * width + j]!;
  for (let j = 0; j < width; j++) mean[j]! /= rows;
  const out = new Float32Array(data.length + added * width);
  out.set(data);
  for (let a = 0; a < added; a++) for (let j = 0; j < width; j++) out[data.length + a * width + j] = mean[j]!;
  return out;
}
