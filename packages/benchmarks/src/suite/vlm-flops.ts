// Analytic GEMM FLOPs of the BLIP-2 experiments (2 FLOPs per multiply-add; norms, softmax,
// activations and the optimizer left out), per sample:
// - vision tower over P patches + the class token (T_v = P + 1, width D_v, MLP I_v, L_v layers):
//   patch conv 2·P·3p²·D_v, per layer 4·2·T_v·D_v² (qkv, projection) + 2·2·T_v·D_v·I_v + 2·2·T_v²·D_v;
// - Q-Former over Q queries (width H, MLP I_q, L_q layers): per layer self-attention 4·2·Q·H² +
//   2·2·Q²·H and the query feed-forward 2·2·Q·H·I_q; layers i with i % cross_attention_frequency == 0
//   add cross-attention: query and output 2·2·Q·H², key and value over the image 2·2·T_v·D_v·H,
//   scores and context 2·2·Q·T_v·H;
// - language_projection 2·Q·H·D_lm; the language model over Q + T positions (lm-flops.ts).
// Stage-2 training (vision and language model frozen, Q-Former and projection trained), as flops.ts
// counts a step: the vision tower 1× (nothing flows into it), the Q-Former and projection 3× except
// the cross-attention keys/values over the frozen image 2× (no input gradient), the language model
// 2× its weight GEMMs (gradients pass through to the queries) and 3× its attention.
// LLaVA (CLIP vision tower, multi_modal_projector, causal LM): the vision tower runs its layers up to
// the deepest vision_feature_layer asked (hidden_states[k] is the output of k layers; later layers
// are not run), over P + 1 tokens as above; the projector over the Q image features: linear_1
// 2·Q·(D_v·n_layers)·E, each later linear 2·Q·E²; the language model over Q + T positions. A stage-2
// LoRA step: the vision tower 1×, linear_1 2× (its input, the frozen tower's output, needs no
// gradient), the later projector linears 3×, the language model as lm-flops.ts counts LoRA.
import { MmftError } from '@mmft/core';
import { filledBlip2Config, filledLlavaConfig } from './vlm-config';
import { lmDecodeStepFlops, lmPrefillFlops, lmShapeOf, lmTrainFlops, type LmShape } from './lm-flops';

/** The GEMM shapes of a BLIP-2 (HF Blip2Config fields). */
export interface Blip2Shape {
  readonly patches: number;
  readonly patchSize: number;
  readonly vision: { readonly width: number; readonly layers: number; readonly mlp: number };
  readonly qformer: { readonly width: number; readonly layers: number; readonly mlp: number; readonly crossEvery: number };
  readonly queries: number;
  readonly lm: LmShape;
}

/**
 * Blip2Shape of a validated Blip2Config (sub-configs with their defaults, text_config with its model_type).
 *
 * @example
 * blip2ShapeOf(modelConfigOf(experiment)).queries; // num_query_tokens
 */
export function blip2ShapeOf(raw: Record<string, unknown>): Blip2Shape {
  const config = filledBlip2Config(raw);
  const v = config.vision_config as Record<string, unknown>;
  const q = config.qformer_config as Record<string, unknown>;
  const text = config.text_config as Record<string, unknown>;
  const need = (from: Record<string, unknown>, where: string, key: string): number => {
    if (typeof from[key] !== 'number') throw new MmftError('E_CONFIG', `benchmark FLOPs: the BLIP-2 config has no numeric ${where}${key}`);
    return from[key] as number;
  };
  const patchSize = need(v, 'vision_config.', 'patch_size');
  return {
    patches: (need(v, 'vision_config.', 'image_size') / patchSize) ** 2,
    patchSize,
    vision: {
      width: need(v, 'vision_config.', 'hidden_size'),
      layers: need(v, 'vision_config.', 'num_hidden_layers'),
      mlp: need(v, 'vision_config.', 'intermediate_size'),
    },
    qformer: {
      width: need(q, 'qformer_config.', 'hidden_size'),
      layers: need(q, 'qformer_config.', 'num_hidden_layers'),
      mlp: need(q, 'qformer_config.', 'intermediate_size'),
      crossEvery: need(q, 'qformer_config.', 'cross_attention_frequency'),
    },
    queries: need(config, '', 'num_query_tokens'),
    lm: lmShapeOf(String(text.model_type), text),
  };
}

/** Forward FLOPs of one image through the vision tower, the Q-Former and the projection, split by how they train. */
function imageSide(s: Blip2Shape): { vision: number; trained: number; crossKeyValue: number; trainedAttention: number } {
  const tv = s.patches + 1;
  const { width: dv, layers: lv, mlp: iv } = s.vision;
  const vision = 2 * s.patches * 3 * s.patchSize ** 2 * dv + lv * (4 * 2 * tv * dv * dv + 2 * 2 * tv * dv * iv + 2 * 2 * tv * tv * dv);
  const { width: h, layers, mlp, crossEvery } = s.qformer;
  const q = s.queries;
  const crossLayers = Math.ceil(layers / crossEvery); // i = 0, f, 2f, … < layers
  const trained = layers * (4 * 2 * q * h * h + 2 * 2 * q * h * mlp) + crossLayers * 2 * 2 * q * h * h + 2 * q * h * s.lm.embedWidth;
  const trainedAttention = layers * 2 * 2 * q * q * h + crossLayers * 2 * 2 * q * tv * h;
  return { vision, trained, crossKeyValue: crossLayers * 2 * 2 * tv * dv * h, trainedAttention };
}

/**
 * FLOPs of one stage-2 training step over `batch` samples of `textLength` text positions (the
 * language model reads Q + textLength positions in either layout).
 *
 * @example
 * blip2Stage2Flops(shape, 8, 32).step;
 */
export function blip2Stage2Flops(s: Blip2Shape, batch: number, textLength: number): { forward: number; step: number } {
  const image = imageSide(s);
  const lm = lmTrainFlops(s.lm, 1, s.queries + textLength, { r: 0, targets: [] });
  const forward = image.vision + image.trained + image.crossKeyValue + image.trainedAttention + lm.forward;
  const step = image.vision + 3 * (image.trained + image.trainedAttention) + 2 * image.crossKeyValue + lm.step;
  return { forward: batch * forward, step: batch * step };
}

/**
 * FLOPs of one captioning generate() over `batch` images: the image side, the prefill over the
 * prompt ([image × Q, bos]: Q + 1 positions; the head for its last position only) and
 * `newTokens − 1` decode steps, step i attending to Q + 1 + i positions.
 */
export function blip2CaptionFlops(s: Blip2Shape, batch: number, newTokens: number): number {
  const image = imageSide(s);
  const prompt = s.queries + 1;
  let lm = lmPrefillFlops(s.lm, batch, prompt);
  for (let i = 1; i < newTokens; i++) lm += lmDecodeStepFlops(s.lm, batch, prompt + i);
  return batch * (image.vision + image.trained + image.crossKeyValue + image.trainedAttention) + lm;
}

/** The GEMM shapes of a LLaVA (HF LlavaConfig fields). */
export interface LlavaShape {
  readonly patches: number;
  readonly patchSize: number;
  /** Vision layers actually run (the deepest feature layer asked). */
  readonly vision: { readonly width: number; readonly layers: number; readonly mlp: number };
  /** Image features per image the language model reads. */
  readonly features: number;
  readonly projector: { readonly inWidth: number; readonly linears: number };
  readonly lm: LmShape;
}

/**
 * LlavaShape of a llava experiment's config (sub-configs filled by their plugins).
 *
 * @example
 * llavaShapeOf(modelConfigOf(experiment)).features; // 64 at image 64, patch 8, strategy default
 */
export function llavaShapeOf(raw: Record<string, unknown>): LlavaShape {
  const config = filledLlavaConfig(raw);
  const v = config.vision_config as Record<string, number>;
  const text = config.text_config as Record<string, unknown>;
  const total = v.num_hidden_layers!;
  const asked = ([] as number[]).concat(config.vision_feature_layer as number | number[]).map((k) => (k < 0 ? total + 1 + k : k));
  const patches = (v.image_size! / v.patch_size!) ** 2;
  const type = config.mm_projector_type as string | undefined;
  const linears = type === undefined ? 2 : type === 'linear' ? 1 : Number(/^mlp(\d+)x_gelu$/.exec(type)?.[1] ?? 2);
  return {
    patches,
    patchSize: v.patch_size!,
    vision: { width: v.hidden_size!, layers: Math.max(...asked), mlp: v.intermediate_size! },
    features: patches + 1 - (config.vision_feature_select_strategy === 'default' ? 1 : 0),
    projector: { inWidth: v.hidden_size! * asked.length, linears },
    lm: lmShapeOf(String(text.model_type), text),
  };
}

/** Forward FLOPs of one image: the vision tower, linear_1 and the later projector linears. */
function llavaImageSide(s: LlavaShape): { vision: number; first: number; rest: number } {
  const tv = s.patches + 1;
  const { width: dv, layers, mlp } = s.vision;
  const vision = 2 * s.patches * 3 * s.patchSize ** 2 * dv + layers * (4 * 2 * tv * dv * dv + 2 * 2 * tv * dv * mlp + 2 * 2 * tv * tv * dv);
  const e = s.lm.embedWidth;
  return { vision, first: 2 * s.features * s.projector.inWidth * e, rest: (s.projector.linears - 1) * 2 * s.features * e * e };
}

/**
 * FLOPs of one stage-2 step over `batch` samples of `textLength` text positions (Q + textLength
 * positions in the language model), LoRA of rank `lora.r` on `lora.targets` of every LM layer.
 *
 * @example
 * llavaTrainFlops(shape, 8, 64, { r: 8, targets: ['q_proj', 'v_proj'] }).step;
 */
export function llavaTrainFlops(
  s: LlavaShape,
  batch: number,
  textLength: number,
  lora: { readonly r: number; readonly targets: readonly string[] },
): { forward: number; step: number } {
  const image = llavaImageSide(s);
  const lm = lmTrainFlops(s.lm, 1, s.features + textLength, lora);
  return {
    forward: batch * (image.vision + image.first + image.rest + lm.forward),
    step: batch * (image.vision + 2 * image.first + 3 * image.rest + lm.step),
  };
}

/**
 * FLOPs of one generate() over `batch` images: the image side, the prefill over [bos, image × Q]
 * (the head for its last position only) and `newTokens − 1` decode steps, step i attending to Q + 1 + i positions.
 */
export function llavaGenerateFlops(s: LlavaShape, batch: number, newTokens: number): number {
  const image = llavaImageSide(s);
  const prompt = s.features + 1;
  let lm = lmPrefillFlops(s.lm, batch, prompt);
  for (let i = 1; i < newTokens; i++) lm += lmDecodeStepFlops(s.lm, batch, prompt + i);
  return batch * (image.vision + image.first + image.rest) + lm;
}
