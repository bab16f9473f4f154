// GPT2LMHeadModel as an ONNX decoder with its KV cache, following transformers'
// src/transformers/models/gpt2/modeling_gpt2.py (Conv1D weights stored [in, out], so no transpose;
// c_attn split into q, k, v; scores scaled by 1/√head_dim when scale_attn_weights and by 1/(layer + 1)
// when scale_attn_by_inverse_layer_idx; pre-LN blocks; ln_f; lm_head tied to wte) and the tfjs model
// this repository trains (packages/plugins/arch-gpt2/src/model/gpt2-model.ts). optimum's GPT2OnnxConfig
// takes position_ids (optimum-onnx model_configs.py), so left-padded rows get their own positions.
import type { OnnxGraph } from '../onnx/graph';
import { activation, layerNorm, linear, weightInitializer } from '../onnx/layers';
import type { ConfigFields } from './config-fields';
import { attendWithCache, declareDecoderInputs, declareDecoderOutputs, decoderMask, splitHeads, type DecoderDims } from './kv-cache';

/**
 * The decoder graph of a GPT-2 model whose weights `useWeights` attached to `g`.
 *
 * @example
 * const dims = emitGpt2(g, configFields(model.config, 'gpt2'));
 */
export function emitGpt2(g: OnnxGraph, c: ConfigFields): DecoderDims {
  const hidden = c.int('n_embd');
  const heads = c.int('n_head');
  const headDim = hidden / heads;
  const eps = c.num('layer_norm_epsilon', 1e-5);
  const act = c.str('activation_function', 'gelu_new');
  const scaleWeights = c.bool('scale_attn_weights', true);
  const byLayer = c.bool('scale_attn_by_inverse_layer_idx', false);
  const dims: DecoderDims = { layers: c.int('n_layer'), kvHeads: heads, headDim, vocabSize: c.int('vocab_size') };
  const conv1d = (x: string, prefix: string) => linear(g, x, prefix, { transposeWeight: false });

  const inputs = declareDecoderInputs(g, dims);
  const wte = weightInitializer(g, 'transformer.wte.weight');
  const wpe = weightInitializer(g, 'transformer.wpe.weight');
  let x = g.op1('Add', [
    g.op1('Gather', [wte, inputs.inputIds], { axis: 0 }, { name: '/transformer/wte/Gather' }),
    g.op1('Gather', [wpe, inputs.positionIds], { axis: 0 }, { name: '/transformer/wpe/Gather' }),
  ]);
  const mask = decoderMask(g, inputs);

  const presents: Array<{ key: string; value: string }> = [];
  for (let i = 0; i < dims.layers; i++) {
    const p = `transformer.h.${i}`;
    const h = layerNorm(g, x, `${p}.ln_1`, eps);
    const [q, k, v] = g.op('Split', [conv1d(h, `${p}.attn.c_attn`)], { axis: -1 }, { outputs: 3 }) as [string, string, string];
    const split = (t: string) => splitHeads(g, t, heads, headDim);
    const scale = (scaleWeights ? headDim ** -0.5 : 1) / (byLayer ? i + 1 : 1);
    const { context, present } = attendWithCache(g, split(q), split(k), split(v), inputs.past[i]!, mask, {
      heads,
      kvHeads: heads,
      headDim,
      scale,
    });
    presents.push(present);
    x = g.op1('Add', [x, conv1d(context, `${p}.attn.c_proj`)]);
    const m = layerNorm(g, x, `${p}.ln_2`, eps);
    x = g.op1('Add', [x, conv1d(activation(g, conv1d(m, `${p}.mlp.c_fc`), act), `${p}.mlp.c_proj`)]);
  }
  x = layerNorm(g, x, 'transformer.ln_f', eps);
  const logits = c.bool('tie_word_embeddings', true)
    ? g.op1('MatMul', [x, g.op1('Transpose', [wte], { perm: [1, 0] })], {}, { name: '/lm_head/MatMul' })
    : linear(g, x, 'lm_head', { bias: false });
  declareDecoderOutputs(g, dims, logits, presents);
  return dims;
}
