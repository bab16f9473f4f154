// LlamaForCausalLM as an ONNX decoder with its KV cache, following transformers'
// src/transformers/models/llama/modeling_llama.py (LlamaRMSNorm, LlamaRotaryEmbedding with
// rotate_half, repeat_kv, eager_attention_forward, LlamaMLP) and the tfjs model this repository trains
// (packages/plugins/arch-llama/src/model/llama-model.ts). Keys are cached after the rotation, as HF's
// DynamicCache holds them; the inverse frequencies come from core's RotaryEmbedding so the angles
// (and the rope_scaling types refused) are the tfjs model's.
import { RotaryEmbedding } from '@mmft/core/nn';
import { OnnxGraph } from '../onnx/graph';
import { activation, int64s, linear, rmsNorm, weightInitializer } from '../onnx/layers';
import type { ConfigFields } from './config-fields';
import { attendWithCache, declareDecoderInputs, declareDecoderOutputs, decoderMask, splitHeads, type DecoderDims } from './kv-cache';

/** The rope dict the rotary embedding applies: rope_scaling, else transformers 5's rope_parameters unless "default". */
function ropeScaling(c: ConfigFields): Record<string, unknown> | null {
  const scaling = c.raw('rope_scaling');
  if (scaling && typeof scaling === 'object') return scaling as Record<string, unknown>;
  const params = c.raw('rope_parameters') as Record<string, unknown> | null | undefined;
  const type = params?.rope_type ?? params?.type ?? 'default';
  return params && type !== 'default' ? params : null;
}

/** x·cos + rotate_half(x)·sin, rotate_half(x) = cat(−x₂, x₁) over the last axis. */
function rotate(g: OnnxGraph, x: string, cos: string, sin: string): string {
  const [first, second] = g.op('Split', [x], { axis: -1 }, { outputs: 2 }) as [string, string];
  const half = g.op1('Concat', [g.op1('Neg', [second]), first], { axis: -1 });
  return g.op1('Add', [g.op1('Mul', [x, cos]), g.op1('Mul', [half, sin])]);
}

/**
 * The decoder graph of a Llama model whose weights `useWeights` attached to `g`.
 *
 * @example
 * const g = new OnnxGraph('llama'); useWeights(g, weightsOf(model.root));
 * const dims = emitLlama(g, configFields(model.config, 'llama'));
 */
export function emitLlama(g: OnnxGraph, c: ConfigFields, options: { inputsEmbeds?: boolean } = {}): DecoderDims {
  const hidden = c.int('hidden_size');
  const heads = c.int('num_attention_heads');
  const kvHeads = c.int('num_key_value_heads', heads);
  const headDim = c.int('head_dim', hidden / heads);
  const eps = c.num('rms_norm_eps', 1e-6);
  const attentionBias = c.bool('attention_bias', false);
  const mlpBias = c.bool('mlp_bias', false);
  const act = c.str('hidden_act', 'silu');
  const params = c.raw('rope_parameters') as Record<string, unknown> | null | undefined;
  const theta = typeof params?.rope_theta === 'number' ? params.rope_theta : c.num('rope_theta', 10000);
  const dims: DecoderDims = { layers: c.int('num_hidden_layers'), kvHeads, headDim, vocabSize: c.int('vocab_size') };

  const inputs = declareDecoderInputs(g, dims, options.inputsEmbeds ? { inputsEmbeds: hidden } : {});
  const embed = () => weightInitializer(g, 'model.embed_tokens.weight'); // only where read (an untied embeds-input decoder has none)
  let x = inputs.inputsEmbeds ?? g.op1('Gather', [embed(), inputs.inputIds], { axis: 0 }, { name: '/model/embed_tokens/Gather' });
  const mask = decoderMask(g, inputs);

  // cos/sin [B, 1, S, headDim] of position_ids · inv_freq, the angles repeated once (cat(freqs, freqs)).
  const rope = new RotaryEmbedding({ dim: headDim, base: theta, scaling: ropeScaling(c) });
  const invFreq = g.constant({ dtype: 'float32', dims: [headDim / 2], data: rope.invFreq }, 'inv_freq');
  const positions = g.op1('Unsqueeze', [g.op1('Cast', [inputs.positionIds], { to: 1 /* FLOAT */ }), int64s(g, [2])]);
  const freqs = g.op1('Mul', [positions, invFreq]);
  const angles = g.op1('Unsqueeze', [g.op1('Concat', [freqs, freqs], { axis: -1 }), int64s(g, [1])]);
  const [cos, sin] = [g.op1('Cos', [angles]), g.op1('Sin', [angles])];

  const presents: Array<{ key: string; value: string }> = [];
  for (let i = 0; i < dims.layers; i++) {
    const p = `model.layers.${i}`;
    const h = rmsNorm(g, x, `${p}.input_layernorm`, eps);
    const q = rotate(g, splitHeads(g, linear(g, h, `${p}.self_attn.q_proj`, { bias: attentionBias }), heads, headDim), cos, sin);
    const k = rotate(g, splitHeads(g, linear(g, h, `${p}.self_attn.k_proj`, { bias: attentionBias }), kvHeads, headDim), cos, sin);
    const v = splitHeads(g, linear(g, h, `${p}.self_attn.v_proj`, { bias: attentionBias }), kvHeads, headDim);
    const { context, present } = attendWithCache(g, q, k, v, inputs.past[i]!, mask, { heads, kvHeads, headDim, scale: headDim ** -0.5 });
    presents.push(present);
    x = g.op1('Add', [x, linear(g, context, `${p}.self_attn.o_proj`, { bias: attentionBias })]);
    const m = rmsNorm(g, x, `${p}.post_attention_layernorm`, eps);
    const gate = activation(g, linear(g, m, `${p}.mlp.gate_proj`, { bias: mlpBias }), act);
    const up = linear(g, m, `${p}.mlp.up_proj`, { bias: mlpBias });
    x = g.op1('Add', [x, linear(g, g.op1('Mul', [gate, up]), `${p}.mlp.down_proj`, { bias: mlpBias })]);
  }
  x = rmsNorm(g, x, 'model.norm', eps);
  const logits = c.bool('tie_word_embeddings', false)
    ? g.op1('MatMul', [x, g.op1('Transpose', [embed()], { perm: [1, 0] })], {}, { name: '/lm_head/MatMul' })
    : linear(g, x, 'lm_head', { bias: false });
  declareDecoderOutputs(g, dims, logits, presents);
  return dims;
}
