// CLIP as ONNX with optimum's names: model.onnx is CLIPModel (CLIPOnnxConfig in
// huggingface/optimum-onnx optimum/exporters/onnx/model_configs.py: input_ids, pixel_values,
// attention_mask → logits_per_image, logits_per_text, text_embeds, image_embeds), and
// text_model.onnx / vision_model.onnx are CLIPTextModelWithProjection / CLIPVisionModelWithProjection,
// the file names transformers.js loads for those classes (huggingface/transformers.js
// packages/transformers/src/models/clip/modeling_clip.js, model_file_name 'text_model' / 'vision_model').
// The computation follows this repository's packages/plugins/arch-clip/src/model (itself
// transformers' models/clip/modeling_clip.py) node for node, so parity is float32 rounding only.
import { MmftError, type VisionLanguageModel } from '@mmft/core';
import { OnnxGraph, writeOnnxModel, type WriteOptions } from './onnx/graph';
import { activation, int64s, layerNorm, linear, scalar, useWeights, weightInitializer, type WeightLookup } from './onnx/layers';

/** -FLT_MAX: what core's masks add for a hidden key (packages/core/src/nn/masks.ts MASK_MIN). */
const MASK_MIN = -3.4028234663852886e38;

/** The config.json fields the CLIP graph needs (core's parsed ClipConfig has them, defaults filled). */
interface TowerFields {
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  hidden_act: string;
  layer_norm_eps: number;
}
interface TextFields extends TowerFields {
  max_position_embeddings: number;
  eos_token_id: number;
}
interface VisionFields extends TowerFields {
  image_size: number;
  patch_size: number;
  num_channels: number;
}
export interface ClipFields {
  projection_dim: number;
  text_config: TextFields;
  vision_config: VisionFields;
}

const num = (v: unknown, where: string): number => {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new MmftError('E_CONFIG', `CLIP config ${where} must be a number, got ${JSON.stringify(v)}`, {
      hint: 'export a model loaded by @mmft/arch-clip (its parsed config has every field filled)',
    });
  }
  return v;
};

/** Reads and checks the fields of a parsed CLIP config. */
export function clipFields(config: Readonly<Record<string, unknown>>): ClipFields {
  const text = (config.text_config ?? {}) as Record<string, unknown>;
  const vision = (config.vision_config ?? {}) as Record<string, unknown>;
  const tower = (c: Record<string, unknown>, name: string): TowerFields => ({
    hidden_size: num(c.hidden_size, `${name}.hidden_size`),
    num_hidden_layers: num(c.num_hidden_layers, `${name}.num_hidden_layers`),
    num_attention_heads: num(c.num_attention_heads, `${name}.num_attention_heads`),
    hidden_act: String(c.hidden_act ?? 'quick_gelu'),
    layer_norm_eps: num(c.layer_norm_eps ?? 1e-5, `${name}.layer_norm_eps`),
  });
  return {
    projection_dim: num(config.projection_dim, 'projection_dim'),
    text_config: {
      ...tower(text, 'text_config'),
      max_position_embeddings: num(text.max_position_embeddings, 'text_config.max_position_embeddings'),
      eos_token_id: num(text.eos_token_id, 'text_config.eos_token_id'),
    },
    vision_config: {
      ...tower(vision, 'vision_config'),
      image_size: num(vision.image_size, 'vision_config.image_size'),
      patch_size: num(vision.patch_size, 'vision_config.patch_size'),
      num_channels: num(vision.num_channels ?? 3, 'vision_config.num_channels'),
    },
  };
}

/** Self-attention of one encoder layer: q scaled before q·kᵀ as CLIPAttention, additive mask, softmax, heads merged. */
function selfAttention(g: OnnxGraph, x: string, prefix: string, t: TowerFields, mask?: string): string {
  const heads = t.num_attention_heads;
  const headDim = t.hidden_size / heads;
  const split = int64s(g, [0, 0, heads, headDim], 'heads_shape'); // 0 keeps batch and length (Reshape, allowzero=0)
  const toHeads = (v: string, perm: number[]) => g.op1('Transpose', [g.op1('Reshape', [v, split])], { perm });
  const q = toHeads(g.op1('Mul', [linear(g, x, `${prefix}.q_proj`), scalar(g, 1 / Math.sqrt(headDim), 'attn_scale')]), [0, 2, 1, 3]);
  const kT = toHeads(linear(g, x, `${prefix}.k_proj`), [0, 2, 3, 1]); // [B, H, hd, S]
  const v = toHeads(linear(g, x, `${prefix}.v_proj`), [0, 2, 1, 3]);
  let scores = g.op1('MatMul', [q, kT], {}, { name: `/${prefix}/scores` });
  if (mask) scores = g.op1('Add', [scores, mask]);
  const probs = g.op1('Softmax', [scores], { axis: -1 });
  const context = g.op1('Transpose', [g.op1('MatMul', [probs, v])], { perm: [0, 2, 1, 3] });
  const merged = g.op1('Reshape', [context, int64s(g, [0, 0, t.hidden_size], 'merge_shape')]);
  return linear(g, merged, `${prefix}.out_proj`);
}

/** The pre-norm encoder stack (CLIPEncoderLayer × num_hidden_layers). */
function encoder(g: OnnxGraph, hidden: string, prefix: string, t: TowerFields, mask?: string): string {
  let h = hidden;
  for (let i = 0; i < t.num_hidden_layers; i++) {
    const p = `${prefix}.encoder.layers.${i}`;
    h = g.op1('Add', [h, selfAttention(g, layerNorm(g, h, `${p}.layer_norm1`, t.layer_norm_eps), `${p}.self_attn`, t, mask)]);
    const x = layerNorm(g, h, `${p}.layer_norm2`, t.layer_norm_eps);
    const mlp = linear(g, activation(g, linear(g, x, `${p}.mlp.fc1`), t.hidden_act), `${p}.mlp.fc2`);
    h = g.op1('Add', [h, mlp]);
  }
  return h;
}

/** The text tower: last_hidden_state [B, T, D] and text_projection(eos state) [B, P] (not normalised). */
function textTower(
  g: OnnxGraph,
  inputIds: string,
  attentionMask: string,
  fields: ClipFields,
): { lastHiddenState: string; features: string } {
  const t = fields.text_config;
  const maxLen = t.max_position_embeddings;
  const length = g.op1('Slice', [g.op1('Shape', [inputIds]), int64s(g, [1]), int64s(g, [2]), int64s(g, [0])]); // [1] = T
  const tokens = g.op1('Gather', [weightInitializer(g, 'text_model.embeddings.token_embedding.weight'), inputIds], { axis: 0 });
  const positionTable = weightInitializer(g, 'text_model.embeddings.position_embedding.weight');
  const positions = g.op1('Slice', [positionTable, int64s(g, [0]), length, int64s(g, [0])]); // rows 0..T-1
  const embedded = g.op1('Add', [tokens, positions]);
  // Causal part: a [maxLen, maxLen] constant cut to [T, T]; padding part: (1 - mask)·MIN as [B, 1, 1, T].
  // Their sum is clamped at MIN as core's combineMasks does (two MINs would otherwise give -inf).
  const causal = new Float32Array(maxLen * maxLen);
  for (let r = 0; r < maxLen; r++) causal.fill(MASK_MIN, r * maxLen + r + 1, (r + 1) * maxLen);
  const causalTable = g.constant({ dtype: 'float32', dims: [maxLen, maxLen], data: causal }, 'causal_mask');
  const causalTT = g.op1('Slice', [causalTable, int64s(g, [0, 0]), g.op1('Concat', [length, length], { axis: 0 }), int64s(g, [0, 1])]);
  const maskF = g.op1('Cast', [attentionMask], { to: 1 });
  const padding = g.op1('Mul', [g.op1('Sub', [scalar(g, 1, 'one'), maskF]), scalar(g, MASK_MIN, 'mask_min')]);
  const padding4 = g.op1('Unsqueeze', [padding, int64s(g, [1, 2])]);
  const mask = g.op1(
    'Max',
    [g.op1('Add', [causalTT, padding4]), scalar(g, MASK_MIN, 'mask_min')],
    {},
    { name: '/text_model/attention_mask' },
  );
  const encoded = encoder(g, embedded, 'text_model', t, mask);
  const lastHiddenState = layerNorm(g, encoded, 'text_model.final_layer_norm', t.layer_norm_eps);
  // Pooled at the first eos of each row; eos_token_id 2 is transformers' legacy rule: the argmax of
  // the ids. ArgMax keeps the first maximum (select_last_index = 0), as torch.argmax does. Ids fit a
  // float32 exactly (< 2^24), so the comparison runs on floats.
  const scores =
    t.eos_token_id === 2
      ? g.op1('Cast', [inputIds], { to: 1 })
      : g.op1(
          'Cast',
          [
            g.op1('Equal', [
              inputIds,
              g.constant({ dtype: 'int64', dims: [], data: new BigInt64Array([BigInt(t.eos_token_id)]) }, 'eos_id'),
            ]),
          ],
          { to: 1 },
        );
  const eosAt = g.op1('ArgMax', [scores], { axis: -1, keepdims: 0 }); // [B] int64
  const pooled = g.op1('GatherND', [lastHiddenState, g.op1('Unsqueeze', [eosAt, int64s(g, [1])])], { batch_dims: 1 }); // [B, D]
  return { lastHiddenState, features: linear(g, pooled, 'text_projection', { bias: false }) };
}

/** The vision tower: last_hidden_state [B, N+1, D] and visual_projection(post_layernorm(class token)) [B, P]. */
function visionTower(g: OnnxGraph, pixelValues: string, fields: ClipFields): { lastHiddenState: string; features: string } {
  const v = fields.vision_config;
  const p = v.patch_size;
  const d = v.hidden_size;
  const conv = g.op1('Conv', [pixelValues, weightInitializer(g, 'vision_model.embeddings.patch_embedding.weight')], {
    kernel_shape: [p, p],
    strides: [p, p],
  }); // [B, D, gh, gw]
  const patches = g.op1('Transpose', [g.op1('Reshape', [conv, int64s(g, [0, d, -1])])], { perm: [0, 2, 1] }); // [B, N, D]
  const batch = g.op1('Slice', [g.op1('Shape', [pixelValues]), int64s(g, [0]), int64s(g, [1]), int64s(g, [0])]);
  const clsShape = g.op1('Concat', [batch, int64s(g, [1, d])], { axis: 0 });
  const cls = g.op1('Expand', [
    g.op1('Reshape', [weightInitializer(g, 'vision_model.embeddings.class_embedding'), int64s(g, [1, 1, d])]),
    clsShape,
  ]);
  const tokens = g.op1('Concat', [cls, patches], { axis: 1 });
  const embedded = g.op1('Add', [tokens, weightInitializer(g, 'vision_model.embeddings.position_embedding.weight')]);
  const pre = layerNorm(g, embedded, 'vision_model.pre_layrnorm', v.layer_norm_eps);
  const lastHiddenState = encoder(g, pre, 'vision_model', v);
  const classToken = g.op1(
    'Gather',
    [lastHiddenState, g.constant({ dtype: 'int64', dims: [], data: new BigInt64Array([0n]) }, 'cls_index')],
    { axis: 1 },
  );
  const pooled = layerNorm(g, classToken, 'vision_model.post_layernorm', v.layer_norm_eps);
  return { lastHiddenState, features: linear(g, pooled, 'visual_projection', { bias: false }) };
}

/** x / ‖x‖₂ over the last axis, no epsilon (transformers' _get_vector_norm, core's l2Normalize). */
function l2Normalize(g: OnnxGraph, x: string): string {
  const norm = g.op1('Sqrt', [g.op1('ReduceSum', [g.op1('Mul', [x, x]), int64s(g, [-1])], { keepdims: 1 })]);
  return g.op1('Div', [x, norm]);
}

export type ClipPart = 'model' | 'text_model' | 'vision_model';
export const CLIP_PARTS: readonly ClipPart[] = ['model', 'text_model', 'vision_model'];

/** One of the three CLIP graphs. */
export function clipGraph(part: ClipPart, fields: ClipFields, weights: WeightLookup): OnnxGraph {
  const g = new OnnxGraph(`clip-${part}`);
  useWeights(g, weights);
  const P = fields.projection_dim;
  const v = fields.vision_config;
  if (part === 'text_model') {
    const ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
    const mask = g.input('attention_mask', 'int64', ['batch_size', 'sequence_length']);
    const { lastHiddenState, features } = textTower(g, ids, mask, fields);
    g.rename(features, 'text_embeds');
    g.rename(lastHiddenState, 'last_hidden_state');
    g.output('text_embeds', 'float32', ['batch_size', P]);
    g.output('last_hidden_state', 'float32', ['batch_size', 'sequence_length', fields.text_config.hidden_size]);
    return g;
  }
  if (part === 'vision_model') {
    const pixels = g.input('pixel_values', 'float32', ['batch_size', 'num_channels', 'height', 'width']);
    const { lastHiddenState, features } = visionTower(g, pixels, fields);
    g.rename(features, 'image_embeds');
    g.rename(lastHiddenState, 'last_hidden_state');
    g.output('image_embeds', 'float32', ['batch_size', P]);
    g.output('last_hidden_state', 'float32', ['batch_size', (v.image_size / v.patch_size) ** 2 + 1, v.hidden_size]);
    return g;
  }
  // CLIPOnnxConfig's input order: input_ids, pixel_values, attention_mask.
  const ids = g.input('input_ids', 'int64', ['text_batch_size', 'sequence_length']);
  const pixels = g.input('pixel_values', 'float32', ['batch_size', 'num_channels', 'height', 'width']);
  const mask = g.input('attention_mask', 'int64', ['text_batch_size', 'sequence_length']);
  const textEmbeds = l2Normalize(g, textTower(g, ids, mask, fields).features);
  const imageEmbeds = l2Normalize(g, visionTower(g, pixels, fields).features);
  const scale = g.op1('Exp', [weightInitializer(g, 'logit_scale')]);
  const logitsPerText = g.op1('Mul', [g.op1('MatMul', [textEmbeds, g.op1('Transpose', [imageEmbeds], { perm: [1, 0] })]), scale]);
  const logitsPerImage = g.op1('Transpose', [logitsPerText], { perm: [1, 0] });
  g.rename(logitsPerImage, 'logits_per_image');
  g.rename(logitsPerText, 'logits_per_text');
  g.rename(textEmbeds, 'text_embeds');
  g.rename(imageEmbeds, 'image_embeds');
  g.output('logits_per_image', 'float32', ['image_batch_size', 'text_batch_size']);
  g.output('logits_per_text', 'float32', ['text_batch_size', 'image_batch_size']);
  g.output('text_embeds', 'float32', ['text_batch_size', P]);
  g.output('image_embeds', 'float32', ['image_batch_size', P]);
  return g;
}

/** What exportClip wrote. */
export interface ClipExportResult {
  /** model.onnx, text_model.onnx, vision_model.onnx (and any `_data` files), in that order. */
  files: string[];
  bytes: number;
}

/**
 * Writes `outDir/{model,text_model,vision_model}.onnx` from a loaded CLIP (adapters merged first).
 *
 * @example
 * await exportClip(model, weightsOf(model.root), 'out/clip-onnx');
 */
export async function exportClip(
  model: VisionLanguageModel,
  weights: WeightLookup,
  outDir: string,
  options: WriteOptions = {},
): Promise<ClipExportResult> {
  const fields = clipFields(model.config);
  const files: string[] = [];
  let bytes = 0;
  for (const part of CLIP_PARTS) {
    const written = await writeOnnxModel(clipGraph(part, fields, weights), `${outDir}/${part}.onnx`, options);
    files.push(...written.files);
    bytes += written.bytes;
  }
  return { files, bytes };
}
