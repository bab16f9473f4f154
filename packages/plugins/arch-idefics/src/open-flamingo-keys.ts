// Where an open_flamingo checkpoint's tensors sit in the IDEFICS layout (open_flamingo/src/helpers.py
// PerceiverResampler, MaskedCrossAttention, GatedCrossAttentionBlock; open_flamingo/src/flamingo_lm.py
// FlamingoLayer; mlfoundations/open_flamingo). The names map one to one or by a split, but three
// parts compute differently (perceiver MLP GELU vs ReLU, cross-attention LayerNorm vs RMSNorm and
// GELU MLP vs SwiGLU) and the cross-attention sits before layer (j+1)·n−1 instead of j·n, so this
// table says where a tensor goes and whether it means the same there; docs/bridges.md has the table.

/** How one open_flamingo tensor lands in the IDEFICS layout. */
export interface OpenFlamingoKeyMapping {
  /** IDEFICS key(s); two for a fused to_kv (rows split in half: k first, then v, as `.chunk(2, dim=-1)`). */
  readonly idefics: readonly string[];
  /** 'same': the tensor means the same; 'split-kv': split rows; 'differs': same place, different computation; 'none': no counterpart. */
  readonly kind: 'same' | 'split-kv' | 'differs' | 'none';
  readonly note?: string;
}

const PERCEIVER_ATTN: Record<string, string> = {
  norm_media: 'context_layer_norm',
  norm_latents: 'latents_layer_norm',
  to_q: 'q_proj',
  to_out: 'output_proj',
};

/**
 * The IDEFICS key(s) of an open_flamingo key for a language model whose decoder list is
 * `model.layers` (Llama) and whose cross-attention interval is `interval`; undefined for keys
 * outside the model (optimizer state).
 *
 * @example
 * openFlamingoToIdeficsKey('lang_encoder.model.layers.3.gated_cross_attn_layer.attn_gate', 4);
 * // { idefics: ['model.gated_cross_attn_layers.0.alpha_cross_attn'], kind: 'same', note: 'before decoder layer 3 in open_flamingo, 0 in IDEFICS' }
 */
export function openFlamingoToIdeficsKey(key: string, interval = 1): OpenFlamingoKeyMapping | undefined {
  let m = /^perceiver\.latents$/.exec(key);
  if (m) return { idefics: ['model.perceiver_resampler.latents'], kind: 'same' };
  m = /^perceiver\.norm\.(weight|bias)$/.exec(key);
  if (m) return { idefics: [`model.perceiver_resampler.layer_norm.${m[1]}`], kind: 'same' };
  m = /^perceiver\.layers\.(\d+)\.0\.(\w+)\.(weight|bias)$/.exec(key);
  if (m) {
    const base = `model.perceiver_resampler.blocks.${m[1]}.0.`;
    if (m[2] === 'to_kv') return { idefics: [`${base}k_proj.weight`, `${base}v_proj.weight`], kind: 'split-kv' };
    const name = PERCEIVER_ATTN[m[2]!];
    return name ? { idefics: [`${base}${name}.${m[3]}`], kind: 'same' } : undefined;
  }
  m = /^perceiver\.layers\.(\d+)\.1\.(0|1|3)\.(weight|bias)$/.exec(key);
  if (m) {
    const name = { '0': 'ln', '1': 'fc', '3': 'c_proj' }[m[2] as '0' | '1' | '3'];
    return {
      idefics: [`model.perceiver_resampler.blocks.${m[1]}.1.${name}.${m[3]}`],
      kind: 'differs',
      note: 'open_flamingo FeedForward uses GELU, IDEFICS perceiver MLP ReLU',
    };
  }
  m = /^perceiver\.(frame_embs|media_time_embs)$/.exec(key);
  if (m) return { idefics: [], kind: 'none', note: 'IDEFICS has no frame or media-time embeddings' };
  m = /^lang_encoder\.model\.layers\.(\d+)\.gated_cross_attn_layer\.(.+)$/.exec(key);
  if (m) {
    const layer = Number(m[1]);
    // open_flamingo: a block where (layer + 1) % n == 0, run before that layer; IDEFICS: block j before layer j·n.
    const j = (layer + 1) / interval - 1;
    if (!Number.isInteger(j)) return undefined;
    const base = `model.gated_cross_attn_layers.${j}.`;
    const where = `before decoder layer ${layer} in open_flamingo, ${j * interval} in IDEFICS`;
    const rest = m[2]!;
    if (rest === 'attn_gate') return { idefics: [`${base}alpha_cross_attn`], kind: 'same', note: where };
    if (rest === 'ff_gate') return { idefics: [`${base}alpha_dense`], kind: 'same', note: where };
    if (rest === 'attn.to_q.weight') return { idefics: [`${base}cross_attn.q_proj.weight`], kind: 'same', note: where };
    if (rest === 'attn.to_kv.weight')
      return { idefics: [`${base}cross_attn.k_proj.weight`, `${base}cross_attn.v_proj.weight`], kind: 'split-kv', note: where };
    if (rest === 'attn.to_out.weight') return { idefics: [`${base}cross_attn.o_proj.weight`], kind: 'same', note: where };
    if (/^attn\.norm\.(weight|bias)$/.test(rest))
      return {
        idefics: rest.endsWith('weight') ? [`${base}input_layernorm.weight`] : [],
        kind: 'differs',
        note: 'LayerNorm in open_flamingo, RMSNorm (no bias) in IDEFICS',
      };
    if (rest.startsWith('ff.'))
      return { idefics: [], kind: 'none', note: 'open_flamingo LN→Linear→GELU→Linear; IDEFICS RMSNorm + SwiGLU (mlp.*)' };
    return undefined;
  }
  m = /^lang_encoder\.model\.layers\.(\d+)\.decoder_layer\.(.+)$/.exec(key);
  if (m) return { idefics: [`model.layers.${m[1]}.${m[2]}`], kind: 'same' };
  if (key.startsWith('lang_encoder.old_decoder_blocks.')) return { idefics: [], kind: 'none', note: 'a duplicate of the decoder layers' };
  m = /^lang_encoder\.(.+)$/.exec(key);
  if (m) return { idefics: [m[1]!], kind: 'same' };
  if (key.startsWith('vision_encoder.'))
    return { idefics: [], kind: 'none', note: 'open_clip names; convert the tower to a HF CLIPVisionModel (model.vision_model.*) first' };
  return undefined;
}
