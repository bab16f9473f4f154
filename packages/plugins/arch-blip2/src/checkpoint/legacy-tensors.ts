// Tensor names older BLIP-2 checkpoints carry that current transformers does not: buffers it drops
// on load (`_keys_to_ignore_on_load_*`) and the 4.26-era split vision attention bias
// (src/transformers/models/blip_2/modeling_blip_2.py Blip2Attention, which now stores `qkv.bias`).
import type { SafetensorsTensor } from '@mmft/core/io';

/** Buffers older checkpoints carry and transformers drops on load (`_keys_to_ignore_on_load_*`). */
export const LEGACY_BUFFERS = [
  /^qformer\.embeddings\.position_ids$/,
  /^language_model\.(.+\.)?rotary_emb\.inv_freq$/,
  /^language_model\.(.+\.)?attn\.(masked_)?bias$/,
];

/**
 * 4.26-era files store the vision attention's bias as `q_bias` / `v_bias`; current transformers
 * stores `qkv.bias` = cat(q_bias, zeros, v_bias). Fuses the former into the latter.
 */
export function fuseLegacyQkvBias(tensors: Map<string, SafetensorsTensor>): string[] {
  const fused: string[] = [];
  for (const name of [...tensors.keys()]) {
    const match = /^(vision_model\.encoder\.layers\.\d+\.self_attn)\.q_bias$/.exec(name);
    if (!match) continue;
    const v = tensors.get(`${match[1]}.v_bias`);
    const q = tensors.get(name)!;
    if (!v || tensors.has(`${match[1]}.qkv.bias`)) continue;
    const d = q.shape[0]!;
    const data = new Float32Array(3 * d);
    data.set(q.data as Float32Array, 0);
    data.set(v.data as Float32Array, 2 * d);
    tensors.set(`${match[1]}.qkv.bias`, { ...q, shape: [3 * d], data } as SafetensorsTensor);
    tensors.delete(name);
    tensors.delete(`${match[1]}.v_bias`);
    fused.push(`${match[1]}.qkv.bias`);
  }
  return fused;
}
