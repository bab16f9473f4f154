// What the language model of an IDEFICS composed from a grouped-query Llama needs besides the
// `<image>` token (whose helpers, findTokenId, withAddedSpecialToken and appendMeanRows, are in
// @mmft/core/hf): IDEFICS's decoder is multi-head, so each kv head's k_proj/v_proj rows are repeated.

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
