// `<image>` for an IDEFICS composed from a language model that never saw one. IdeficsProcessor
// expects `<image>` in the tokenizer as an added special token (transformers
// src/transformers/models/idefics/processing_idefics.py looks its id up with
// convert_tokens_to_ids), and the IDEFICS checkpoints keep such tokens in the decoupled extra rows
// (additional_vocab_size, ./decoupled.ts). A new row starts as the mean of the old rows, as
// transformers' resize_token_embeddings does by default since 4.46 (src/transformers/modeling_utils.py,
// _init_added_embeddings_weights_with_mean: the mean is the centre of its draw).
import { MmftError } from '@mmft/core';

type Json = Record<string, unknown>;

function parseJson(bytes: Uint8Array, file: string): Json {
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as Json;
  } catch (cause) {
    throw new MmftError('E_CONFIG', `${file} is not valid JSON`, { cause, hint: 'rewrite it with the tokenizer that made it' });
  }
}

/**
 * `token`'s id in a tokenizer.json (added tokens, then the model vocabulary: a BPE/WordPiece map
 * or a Unigram list) and the largest id the tokenizer uses.
 *
 * @example
 * tokenIdAndMax(bytes, '<image>'); // { maxId: 653 } when the tokenizer has no <image>
 */
export function tokenIdAndMax(tokenizerJson: Uint8Array, token: string, file = 'tokenizer.json'): { id?: number; maxId: number } {
  const json = parseJson(tokenizerJson, file);
  let maxId = -1;
  let id: number | undefined;
  for (const entry of Array.isArray(json.added_tokens) ? (json.added_tokens as Array<{ id?: unknown; content?: unknown }>) : []) {
    if (typeof entry.id !== 'number') continue;
    maxId = Math.max(maxId, entry.id);
    if (entry.content === token) id = entry.id;
  }
  const vocab = (json.model as { vocab?: unknown } | undefined)?.vocab;
  if (Array.isArray(vocab)) {
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

const specialEntry = (content: string) => ({ content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true });

/**
 * The tokenizer files with `token` added as a special, not normalised token of id `id`, in
 * tokenizer.json's added_tokens and tokenizer_config.json's added_tokens_decoder (what
 * `tokenizer.add_special_tokens(...)` then save_pretrained write). Other files pass through.
 *
 * @example
 * const files = withSpecialToken(await readTokenizerFiles('models/llama-shapes-base'), '<image>', 654);
 */
export function withSpecialToken(files: ReadonlyMap<string, Uint8Array>, token: string, id: number): Map<string, Uint8Array> {
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
 * `data` [rows, width] with one row appended: the column means (summed in float64).
 *
 * @example
 * withMeanRow(new Float32Array([1, 2, 3, 4]), 2); // [1, 2, 3, 4, 2, 3]
 */
export function withMeanRow(data: Float32Array, rows: number): Float32Array {
  const width = rows === 0 ? 0 : data.length / rows;
  const mean = new Float64Array(width);
  for (let r = 0; r < rows; r++) for (let j = 0; j < width; j++) mean[j]! += data[r * width + j]!;
  const out = new Float32Array(data.length + width);
  out.set(data);
  for (let j = 0; j < width; j++) out[data.length + j] = mean[j]! / rows;
  return out;
}

/**
 * A grouped-query k_proj/v_proj weight [kvHeads·headDim, in] as the multi-head one
 * [heads·headDim, in] that computes the same attention: query head h reads kv head
 * h / (heads / kvHeads) (transformers src/transformers/models/llama/modeling_llama.py, repeat_kv),
 * so its rows are that kv head's rows.
 *
 * @example
 * repeatKvRows(new Float32Array([1, 2]), 4, 2, 1); // heads 0, 1 read kv head 0 and heads 2, 3 kv head 1: [1, 1, 2, 2]
 */
export function repeatKvRows(data: Float32Array, heads: number, kvHeads: number, headDim: number): Float32Array {
  const width = data.length / (kvHeads * headDim);
  const group = heads / kvHeads;
  const block = headDim * width;
  const out = new Float32Array(heads * block);
  for (let h = 0; h < heads; h++) {
    const kv = Math.floor(h / group);
    out.set(data.subarray(kv * block, (kv + 1) * block), h * block);
  }
  return out;
}
