// OPTForCausalLM as an ONNX decoder with its KV cache, following transformers'
// src/transformers/models/opt/modeling_opt.py (OPTLearnedPositionalEmbedding: position p reads row p + 2;
// OPTAttention: q_proj(x) scaled by head_dim^-0.5 before q·kᵀ; OPTDecoderLayer pre- or post-LayerNorm by
// do_layer_norm_before; OPTDecoder: project_in / project_out when word_embed_proj_dim ≠ hidden_size,
// final_layer_norm only when pre-LN and not _remove_final_layer_norm) and the tfjs model this repository
// trains (packages/plugins/arch-opt/src/model/decoder.ts). optimum feeds OPT position_ids since
// transformers 4.46 (optimum-onnx model_configs.py OPTOnnxConfig).
import type { OnnxGraph } from '../onnx/graph';
import { activation, int64s, layerNorm, linear, scalar, weightInitializer } from '../onnx/layers';
import type { ConfigFields } from './config-fields';
import { attendWithCache, declareDecoderInputs, declareDecoderOutputs, decoderMask, splitHeads, type DecoderDims } from './kv-cache';

/** OPTLearnedPositionalEmbedding.offset. */
const POSITION_OFFSET = 2;
/** nn.LayerNorm's default eps, which OPT keeps. */
const OPT_LN_EPS = 1e-5;

/**
 * The decoder graph of an OPT model whose weights `useWeights` attached to `g`.
 *
 * @example
 * const dims = emitOpt(g, configFields(model.config, 'opt'));
 */
export function emitOpt(g: OnnxGraph, c: ConfigFields, options: { inputsEmbeds?: boolean } = {}): DecoderDims {
  const hidden = c.int('hidden_size');
  const heads = c.int('num_attention_heads');
  const headDim = hidden / heads;
  const projDim = c.int('word_embed_proj_dim', hidden);
  const bias = c.bool('enable_bias', true);
  const preNorm = c.bool('do_layer_norm_before', true);
  const affine = c.bool('layer_norm_elementwise_affine', true);
  const act = c.str('activation_function', 'relu');
  const dims: DecoderDims = { layers: c.int('num_hidden_layers'), kvHeads: heads, headDim, vocabSize: c.int('vocab_size') };
  // A LayerNorm without elementwise affine is the same op with unit scale and no bias.
  const ones = affine ? '' : g.constant({ dtype: 'float32', dims: [hidden], data: new Float32Array(hidden).fill(1) }, 'ln_ones');
  const norm = (x: string, prefix: string) =>
    affine ? layerNorm(g, x, prefix, OPT_LN_EPS) : g.op1('LayerNormalization', [x, ones], { axis: -1, epsilon: OPT_LN_EPS });

  const inputs = declareDecoderInputs(g, dims, options.inputsEmbeds ? { inputsEmbeds: projDim } : {});
  const embed = () => weightInitializer(g, 'model.decoder.embed_tokens.weight'); // only where read
  let x = inputs.inputsEmbeds ?? g.op1('Gather', [embed(), inputs.inputIds], { axis: 0 }, { name: '/model/decoder/embed_tokens/Gather' });
  if (projDim !== hidden) x = linear(g, x, 'model.decoder.project_in', { bias: false });
  const table = weightInitializer(g, 'model.decoder.embed_positions.weight');
  const rows = g.op1('Add', [inputs.positionIds, int64s(g, [POSITION_OFFSET], 'position_offset')]);
  x = g.op1('Add', [x, g.op1('Gather', [table, rows], { axis: 0 }, { name: '/model/decoder/embed_positions/Gather' })]);
  const mask = decoderMask(g, inputs);

  const presents: Array<{ key: string; value: string }> = [];
  for (let i = 0; i < dims.layers; i++) {
    const p = `model.decoder.layers.${i}`;
    let h = preNorm ? norm(x, `${p}.self_attn_layer_norm`) : x;
    const q = g.op1('Mul', [linear(g, h, `${p}.self_attn.q_proj`, { bias }), scalar(g, headDim ** -0.5, 'opt_q_scale')]);
    const k = linear(g, h, `${p}.self_attn.k_proj`, { bias });
    const v = linear(g, h, `${p}.self_attn.v_proj`, { bias });
    const split = (t: string) => splitHeads(g, t, heads, headDim);
    const { context, present } = attendWithCache(g, split(q), split(k), split(v), inputs.past[i]!, mask, {
      heads,
      kvHeads: heads,
      headDim,
      scale: 1,
    });
    presents.push(present);
    x = g.op1('Add', [x, linear(g, context, `${p}.self_attn.out_proj`, { bias })]);
    if (!preNorm) x = norm(x, `${p}.self_attn_layer_norm`);
    h = preNorm ? norm(x, `${p}.final_layer_norm`) : x;
    x = g.op1('Add', [x, linear(g, activation(g, linear(g, h, `${p}.fc1`, { bias }), act), `${p}.fc2`, { bias })]);
    if (!preNorm) x = norm(x, `${p}.final_layer_norm`);
  }
  if (preNorm && !c.bool('_remove_final_layer_norm', false)) x = norm(x, 'model.decoder.final_layer_norm');
  if (projDim !== hidden) x = linear(g, x, 'model.decoder.project_out', { bias: false });
  const logits = c.bool('tie_word_embeddings', true)
    ? g.op1('MatMul', [x, g.op1('Transpose', [embed()], { perm: [1, 0] })], {}, { name: '/lm_head/MatMul' })
    : linear(g, x, 'lm_head', { bias: false });
  declareDecoderOutputs(g, dims, logits, presents);
  return dims;
}
