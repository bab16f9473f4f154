// The image side of the vision-language exports, as graphs ending in `image_features` [B, N, D_lm]
// (the language model's embedding width), the output transformers.js reads from vision_encoder.onnx
// (huggingface/transformers.js packages/transformers/src/models/modeling_utils.js, encode_image):
// - LLaVA: the CLIP vision tower's hidden states at vision_feature_layer (0 = after pre_layrnorm,
//   −1 = the last layer, no post_layernorm), the class token dropped for the "default" strategy,
//   several layers concatenated on the last axis, then multi_modal_projector (linear_1, act, linear_2 …),
//   as transformers' src/transformers/models/llava/modeling_llava.py get_image_features and this
//   repository's packages/plugins/arch-llava/src/model/image-features.ts compute them.
// - BLIP-2: Blip2VisionModel (patch conv with bias, bare class/position parameters, fused qkv, no
//   pre-LayerNorm, post_layernorm over every position), the Q-Former's query branch (layernorm, BERT
//   post-LN layers, cross-attention every cross_attention_frequency layers, the query feed-forward),
//   then language_projection (transformers' src/transformers/models/blip_2/modeling_blip_2.py and
//   packages/plugins/arch-blip2/src/model/{vision,qformer,blip2-root}.ts). With one image and no text
//   the Q-Former's masks are all zeros, so none is emitted.
import { MmftError } from '@mmft/core';
import type { OnnxGraph } from '../onnx/graph';
import { activation, int64s, layerNorm, linear, scalar, weightInitializer } from '../onnx/layers';

/** What the emitters read from a tower's config. */
export interface TowerShape {
  readonly hiddenSize: number;
  readonly heads: number;
  readonly layers: number;
  readonly act: string;
  readonly eps: number;
  readonly patchSize: number;
  readonly imageSize: number;
}

const num = (config: Readonly<Record<string, unknown>>, field: string, where: string, fallback?: number): number => {
  const v = config[field] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new MmftError('E_CONFIG', `${where}.${field} must be a number for ONNX export, got ${JSON.stringify(config[field])}`, {
      hint: `set ${field} in config.json's ${where}`,
    });
  }
  return v;
};

/** A tower's shape from a vision_config section. */
export function towerShape(vision: Readonly<Record<string, unknown>>, where = 'vision_config'): TowerShape {
  return {
    hiddenSize: num(vision, 'hidden_size', where),
    heads: num(vision, 'num_attention_heads', where),
    layers: num(vision, 'num_hidden_layers', where),
    act: typeof vision.hidden_act === 'string' ? vision.hidden_act : 'quick_gelu',
    eps: num(vision, 'layer_norm_eps', where, 1e-5),
    patchSize: num(vision, 'patch_size', where),
    imageSize: num(vision, 'image_size', where),
  };
}

/** [B, S, D] → [B, H, S, hd]. */
function heads(g: OnnxGraph, x: string, h: number, hd: number): string {
  return g.op1('Transpose', [g.op1('Reshape', [x, int64s(g, [0, 0, h, hd])])], { perm: [0, 2, 1, 3] });
}

/** softmax(q·kᵀ·scale)·v over [B, H, ·, hd] heads, merged back to [B, S, H·hd]; `divide` divides by 1/scale instead (the Q-Former's form). */
function attend(g: OnnxGraph, q: string, k: string, v: string, width: number, scale: number, divide = false): string {
  const raw = g.op1('MatMul', [q, g.op1('Transpose', [k], { perm: [0, 1, 3, 2] })]);
  const scores = divide ? g.op1('Div', [raw, scalar(g, 1 / scale, 'attn_div')]) : g.op1('Mul', [raw, scalar(g, scale, 'attn_scale')]);
  const context = g.op1('MatMul', [g.op1('Softmax', [scores], { axis: -1 }), v]);
  return g.op1('Reshape', [g.op1('Transpose', [context], { perm: [0, 2, 1, 3] }), int64s(g, [0, 0, width])]);
}

/** Patch conv → [B, N, D], class token in front: [B, 1 + N, D]. */
function patchTokens(g: OnnxGraph, pixels: string, t: TowerShape, conv: { weight: string; bias?: string }, classEmbedding: string): string {
  const d = t.hiddenSize;
  const p = t.patchSize;
  const inputs = [pixels, weightInitializer(g, conv.weight), ...(conv.bias ? [weightInitializer(g, conv.bias)] : [])];
  const patches = g.op1(
    'Transpose',
    [g.op1('Reshape', [g.op1('Conv', inputs, { kernel_shape: [p, p], strides: [p, p] }), int64s(g, [0, d, -1])])],
    {
      perm: [0, 2, 1],
    },
  );
  const batch = g.op1('Slice', [g.op1('Shape', [pixels]), int64s(g, [0]), int64s(g, [1]), int64s(g, [0])]);
  const cls = g.op1('Expand', [
    g.op1('Reshape', [weightInitializer(g, classEmbedding), int64s(g, [1, 1, d])]),
    g.op1('Concat', [batch, int64s(g, [1, d])], { axis: 0 }),
  ]);
  return g.op1('Concat', [cls, patches], { axis: 1 });
}

/**
 * LLaVA's vision_encoder body: pixel_values → image_features [B, tokens, D_lm], with the tower's
 * weights under `vision_tower.vision_model.*` and the projector's under `multi_modal_projector.linear_N`.
 */
export function emitLlavaImageFeatures(
  g: OnnxGraph,
  pixels: string,
  t: TowerShape,
  o: { featureLayers: readonly number[]; strategy: string; projectorLayers: number; projectorAct: string; projectorBias: boolean },
): string {
  const prefix = 'vision_tower.vision_model';
  const wanted = o.featureLayers.map((l) => (l < 0 ? t.layers + 1 + l : l));
  if (wanted.some((l) => l < 0 || l > t.layers)) {
    throw new MmftError(
      'E_CONFIG',
      `vision_feature_layer ${JSON.stringify(o.featureLayers)} is outside the tower's 0..${t.layers} hidden states`,
      {
        hint: 'use a layer index in [-(num_hidden_layers + 1), num_hidden_layers]',
      },
    );
  }
  const tokens = patchTokens(
    g,
    pixels,
    t,
    { weight: `${prefix}.embeddings.patch_embedding.weight` },
    `${prefix}.embeddings.class_embedding`,
  );
  const embedded = g.op1('Add', [tokens, weightInitializer(g, `${prefix}.embeddings.position_embedding.weight`)]);
  const states = [layerNorm(g, embedded, `${prefix}.pre_layrnorm`, t.eps)];
  const hd = t.hiddenSize / t.heads;
  for (let i = 0; i < Math.max(...wanted); i++) {
    const p = `${prefix}.encoder.layers.${i}`;
    const h = states[i]!;
    const x = layerNorm(g, h, `${p}.layer_norm1`, t.eps);
    const a = `${p}.self_attn`;
    // CLIPAttention scales q before q·kᵀ (scale 1 in attend, q multiplied here), as the tfjs tower does.
    const q = heads(g, g.op1('Mul', [linear(g, x, `${a}.q_proj`), scalar(g, hd ** -0.5, 'q_scale')]), t.heads, hd);
    const context = attend(
      g,
      q,
      heads(g, linear(g, x, `${a}.k_proj`), t.heads, hd),
      heads(g, linear(g, x, `${a}.v_proj`), t.heads, hd),
      t.hiddenSize,
      1,
    );
    const attended = g.op1('Add', [h, linear(g, context, `${a}.out_proj`)]);
    const m = layerNorm(g, attended, `${p}.layer_norm2`, t.eps);
    states.push(g.op1('Add', [attended, linear(g, activation(g, linear(g, m, `${p}.mlp.fc1`), t.act), `${p}.mlp.fc2`)]));
  }
  const chosen = wanted.map((l) => {
    const s = states[l]!;
    if (o.strategy === 'full') return s;
    if (o.strategy === 'default') return g.op1('Slice', [s, int64s(g, [1]), int64s(g, [2 ** 31 - 1]), int64s(g, [1])]);
    throw new MmftError('E_CONFIG', `vision_feature_select_strategy "${o.strategy}" is not one LLaVA has`, {
      hint: 'use "default" or "full"',
    });
  });
  let h = chosen.length === 1 ? chosen[0]! : g.op1('Concat', chosen, { axis: -1 });
  for (let i = 1; i <= o.projectorLayers; i++) {
    if (i > 1) h = activation(g, h, o.projectorAct);
    h = linear(g, h, `multi_modal_projector.linear_${i}`, { bias: o.projectorBias });
  }
  return h;
}

/** What the BLIP-2 emitter reads besides the vision tower. */
export interface QFormerShape {
  readonly hiddenSize: number;
  readonly heads: number;
  readonly layers: number;
  readonly act: string;
  readonly eps: number;
  readonly crossAttentionFrequency: number;
  readonly queries: number;
}

/** BLIP-2's vision_encoder body: pixel_values → image_features [B, num_query_tokens, D_lm]. */
export function emitBlip2ImageFeatures(g: OnnxGraph, pixels: string, t: TowerShape, q: QFormerShape): string {
  const v = 'vision_model';
  const hd = t.hiddenSize / t.heads;
  const tokens = patchTokens(
    g,
    pixels,
    t,
    { weight: `${v}.embeddings.patch_embedding.weight`, bias: `${v}.embeddings.patch_embedding.bias` },
    `${v}.embeddings.class_embedding`,
  );
  let h = g.op1('Add', [tokens, weightInitializer(g, `${v}.embeddings.position_embedding`)]);
  for (let i = 0; i < t.layers; i++) {
    const p = `${v}.encoder.layers.${i}`;
    const x = layerNorm(g, h, `${p}.layer_norm1`, t.eps);
    // The fused qkv Linear's output holds q, k, v as its three D-wide thirds (reshape(b, t, 3, H, hd)).
    const [qs, ks, vs] = g.op('Split', [linear(g, x, `${p}.self_attn.qkv`)], { axis: -1 }, { outputs: 3 }) as [string, string, string];
    const context = attend(g, heads(g, qs, t.heads, hd), heads(g, ks, t.heads, hd), heads(g, vs, t.heads, hd), t.hiddenSize, hd ** -0.5);
    h = g.op1('Add', [h, linear(g, context, `${p}.self_attn.projection`)]);
    const m = layerNorm(g, h, `${p}.layer_norm2`, t.eps);
    h = g.op1('Add', [h, linear(g, activation(g, linear(g, m, `${p}.mlp.fc1`), t.act), `${p}.mlp.fc2`)]);
  }
  const image = layerNorm(g, h, `${v}.post_layernorm`, t.eps);

  const qd = q.hiddenSize / q.heads;
  const batch = g.op1('Slice', [g.op1('Shape', [pixels]), int64s(g, [0]), int64s(g, [1]), int64s(g, [0])]);
  const queryShape = g.op1('Concat', [batch, int64s(g, [q.queries, q.hiddenSize])], { axis: 0 });
  let x = layerNorm(g, g.op1('Expand', [weightInitializer(g, 'query_tokens'), queryShape]), 'qformer.layernorm', q.eps);
  // Blip2QFormerAttention: BERT heads (scores / √hd), then LayerNorm(dense(context) + input).
  const block = (input: string, source: string, prefix: string): string => {
    const a = `${prefix}.attention`;
    const context = attend(
      g,
      heads(g, linear(g, input, `${a}.query`), q.heads, qd),
      heads(g, linear(g, source, `${a}.key`), q.heads, qd),
      heads(g, linear(g, source, `${a}.value`), q.heads, qd),
      q.hiddenSize,
      qd ** -0.5,
      true,
    );
    return layerNorm(g, g.op1('Add', [linear(g, context, `${prefix}.output.dense`), input]), `${prefix}.output.LayerNorm`, q.eps);
  };
  for (let i = 0; i < q.layers; i++) {
    const p = `qformer.encoder.layer.${i}`;
    x = block(x, x, `${p}.attention`);
    if (i % q.crossAttentionFrequency === 0) x = block(x, image, `${p}.crossattention`);
    const inner = activation(g, linear(g, x, `${p}.intermediate_query.dense`), q.act);
    x = layerNorm(g, g.op1('Add', [linear(g, inner, `${p}.output_query.dense`), x]), `${p}.output_query.LayerNorm`, q.eps);
  }
  return linear(g, x, 'language_projection');
}
