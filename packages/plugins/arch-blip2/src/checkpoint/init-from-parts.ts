// Composing a fresh BLIP-2 from parts, the recipe's `init: { vision, qformer, language_model }`:
// a CLIP (or BLIP-2) vision tower, the Q-Former of a BLIP-2 folder, and a causal-LM folder. LAVIS
// builds its BLIP-2 the same way (lavis/models/blip2_models/blip2.py init_vision_encoder loads a
// pretrained ViT, blip2_opt.py loads OPT with from_pretrained), and transformers'
// Blip2ForConditionalGeneration keeps the parts under `vision_model.*`, `qformer.*` /
// `query_tokens` and `language_model.*` (src/transformers/models/blip_2/modeling_blip_2.py).
//
// CLIP → Blip2VisionModel (src/transformers/models/clip/modeling_clip.py CLIPVisionTransformer,
// CLIPVisionEmbeddings, CLIPAttention against modeling_blip_2.py Blip2VisionEmbeddings,
// Blip2Attention): the patch conv has no bias in CLIP (a zero bias here), class_embedding [D] and
// position_embedding.weight [N + 1, D] become the bare [1, 1, D] / [1, N + 1, D] parameters, q/k/v
// fuse into `qkv` with the k third of the bias set to zero (exact: q·b_k is one constant per score
// row, which softmax ignores; transformers' Blip2Attention also keeps that third at zero), out_proj
// becomes `projection`, and layer_norm1/2, mlp.fc1/fc2 and post_layernorm keep their names. CLIP's
// `pre_layrnorm` (applied to the embeddings before layer 0) has no place in Blip2VisionModel.
// By default (`vision_pre_layernorm: fold`) it is folded into the embeddings: exactly for the class
// token, whose embedding is a constant; for the patch tokens up to their per-token std, which one
// fixed σ stands in for (given, or estimated from the weights: `estimateClipEmbeddingStd`).
// `drop` leaves it out, so the encoder sees the raw embeddings. docs/blip2.md "Composing from
// parts" reports how far each is from CLIP's states on the shapes images.
import * as tf from '@tensorflow/tfjs-core';
import {
  isCausalLanguageModel,
  MmftError,
  recipePath,
  type ArchitectureContext,
  type ImageProcessing,
  type VisionLanguageModel,
} from '@mmft/core';
import { readHfFolder, type HfFolder } from '@mmft/core/hf';
import { readShardedSafetensors, type SafetensorsTensor } from '@mmft/core/io';
import { z } from 'zod';
import type { Blip2ConfigInput } from '../config';
import { fuseLegacyQkvBias, type Blip2ForConditionalGeneration } from '../blip2-for-conditional-generation';
import { parseBlipImageProcessing } from '../processor';

/**
 * The `init:` block of `model: { type: blip2, config: ..., init: ... }`: folders whose weights
 * replace the fresh ones after the model is built.
 *
 * @example
 * init: { vision: ../models/clip-shapes-base, language_model: ../models/opt-shapes-base }
 */
export const blip2InitSchema = z.strictObject({
  vision: recipePath(z.string().min(1))
    .optional()
    .describe(
      'CLIP folder (model_type clip or clip_vision_model; CLIP pre_layrnorm is folded or dropped, see vision_pre_layernorm) or BLIP-2 folder: its vision tower becomes vision_model.* and vision_config',
    ),
  vision_pre_layernorm: z
    .enum(['fold', 'drop'])
    .default('fold')
    .describe(
      "CLIP's pre_layrnorm, which Blip2VisionModel lacks: fold (default) puts it into the embeddings (exact for the class token, one fixed std for the patch tokens); drop leaves it out",
    ),
  vision_pre_layernorm_scale: z
    .number()
    .positive()
    .optional()
    .describe('with fold: the per-token std of the CLIP embeddings that the patch tokens are divided by; default: estimated from the weights'),
  qformer: recipePath(z.string().min(1))
    .optional()
    .describe('BLIP-2 folder (retrieval or captioning): query_tokens and the qformer.* tensors this model has, plus its qformer_config'),
  language_model: recipePath(z.string().min(1))
    .optional()
    .describe("causal-LM folder: its config.json becomes text_config, its weights language_model.*, its tokenizer the model's"),
});
/** The `init:` block as written (`vision_pre_layernorm` may be left out: fold). */
export type Blip2Init = z.input<typeof blip2InitSchema>;

/** What `resolveBlip2Config` gives `Blip2ForConditionalGeneration.fromConfig`. */
export interface Blip2InitPlan {
  /** Blip2Config fields: the parts' sub-configs under the section's explicit fields. */
  readonly config: Blip2ConfigInput;
  /** Tokenizer folder: the section's, else the language model folder. */
  readonly tokenizer?: string;
  /** The vision folder's mean / std at vision_config.image_size, when it has preprocessor_config.json. */
  readonly imageProcessing?: ImageProcessing;
}

/** What `applyBlip2Init` copied, per part. */
export interface Blip2InitReport {
  readonly vision?: {
    readonly dir: string;
    readonly format: 'clip' | 'blip-2';
    /** Target tensors written. */
    readonly copied: number;
    /** Source tensors with no place in Blip2VisionModel (CLIP pre_layrnorm with `drop`, layers beyond num_hidden_layers). */
    readonly dropped: string[];
    /** CLIP sources: what became of pre_layrnorm. */
    readonly preLayerNorm?: PreLayerNormReport;
  };
  readonly qformer?: { readonly dir: string; readonly copied: number; readonly skipped: string[] };
  readonly languageModel?: { readonly dir: string; readonly copied: number };
}

/**
 * CLIP's pre_layrnorm in the converted tower. `fold`: the class token is exact; each patch token
 * is LN_pre(e) when its std over the hidden dims equals `scale` (otherwise it is that LN scaled by
 * std(e) / scale). `scaleFrom` says whether `scale` was given (vision_pre_layernorm_scale) or
 * estimated from the weights (`estimateClipEmbeddingStd`).
 */
export type PreLayerNormReport =
  | { readonly mode: 'fold'; readonly scale: number; readonly scaleFrom: 'given' | 'weights'; readonly classToken: 'exact' }
  | { readonly mode: 'drop' };

type Json = Record<string, unknown>;
type Blip2VisionConfigInput = NonNullable<Blip2ConfigInput['vision_config']>;
interface Tensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

const CLIP_TYPES = ['clip', 'clip_vision_model'];
const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;
const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
/** Fields config.json carries about the file rather than the model; never copied into a sub-config. */
const FILE_FIELDS = ['architectures', 'torch_dtype', 'transformers_version', '_name_or_path'];
const withoutFields = (config: Json, fields: readonly string[]): Json =>
  Object.fromEntries(Object.entries(config).filter(([key]) => !fields.includes(key)));

/**
 * The Blip2VisionConfig fields of a CLIP config.json (CLIPConfig's vision_config, or a
 * CLIPVisionConfig of model_type clip_vision_model); missing fields take CLIPVisionConfig's
 * defaults (ViT-B/32, src/transformers/models/clip/configuration_clip.py), not BLIP-2's.
 *
 * @example
 * blip2VisionConfigFromClip(clipConfigJson).hidden_act; // 'quick_gelu'
 */
export function blip2VisionConfigFromClip(clipConfig: Json, source = 'config.json'): Blip2VisionConfigInput {
  const modelType = clipConfig.model_type;
  if (!CLIP_TYPES.includes(modelType as string)) {
    throw new MmftError('E_CONFIG', `${source}: model_type ${JSON.stringify(modelType)} is not a CLIP config; expected one of ${CLIP_TYPES.join(', ')}`);
  }
  const vision = modelType === 'clip' ? (clipConfig.vision_config ?? {}) : clipConfig;
  if (!isRecord(vision)) throw new MmftError('E_CONFIG', `${source}: vision_config must be an object, got ${JSON.stringify(vision)}`);
  const channels = vision.num_channels ?? 3;
  if (channels !== 3) {
    throw new MmftError('E_CONFIG', `${source}: vision_config.num_channels is ${JSON.stringify(channels)}; Blip2VisionModel reads RGB (3 channels)`);
  }
  const pick = <T>(field: string, fallback: T): T => (vision[field] ?? fallback) as T;
  return {
    hidden_size: pick('hidden_size', 768),
    intermediate_size: pick('intermediate_size', 3072),
    num_hidden_layers: pick('num_hidden_layers', 12),
    num_attention_heads: pick('num_attention_heads', 12),
    image_size: pick('image_size', 224),
    patch_size: pick('patch_size', 32),
    hidden_act: pick('hidden_act', 'quick_gelu'),
    layer_norm_eps: pick('layer_norm_eps', 1e-5),
    attention_dropout: pick('attention_dropout', 0),
    initializer_range: pick('initializer_range', 0.02),
    qkv_bias: true,
  };
}

/** The model_type of a part folder, or an E_CONFIG error naming the init field and what it accepts. */
function partType(folder: HfFolder, field: string, accepted: readonly string[] | undefined): string {
  const type = folder.modelType;
  if (typeof type !== 'string' || (accepted && !accepted.includes(type))) {
    throw new MmftError(
      'E_CONFIG',
      `init.${field}: ${folder.dir}/config.json has model_type ${JSON.stringify(folder.config.model_type)}; init.${field} takes ${
        accepted ? accepted.join(' or ') : 'a causal-LM checkpoint'
      }`,
      {
        hint:
          field === 'vision'
            ? 'give a CLIP folder (model_type clip / clip_vision_model) or a BLIP-2 folder'
            : field === 'qformer'
              ? 'give a BLIP-2 folder (model_type blip-2), e.g. the output of a stage-1 run'
              : 'give a folder with config.json (model_type opt, gpt2, llama, ...) and model.safetensors',
      },
    );
  }
  return type;
}

const subConfig = (folder: HfFolder, name: string): Json => {
  const value = folder.config[name] ?? {};
  if (!isRecord(value)) throw new MmftError('E_CONFIG', `${folder.dir}/config.json: ${name} must be an object`);
  return value;
};

/**
 * A Blip2Config for a model composed from `init`: vision_config from the vision folder (CLIP via
 * `blip2VisionConfigFromClip`), qformer_config and num_query_tokens from the Q-Former folder
 * (never its encoder_hidden_size, forced to the vision width, nor use_qformer_text_input, which
 * stays the section's: a captioning model has no text feed-forward), text_config from the
 * language model's config.json. Fields written in `config` win. Pass `config` as the recipe wrote
 * it, before the schema fills defaults (num_query_tokens 32, text_config.model_type opt), or
 * those defaults hide what the parts say.
 *
 * @example
 * const plan = await resolveBlip2Config(rawSection.config, section.init, { tokenizer: section.tokenizer });
 * const model = await Blip2ForConditionalGeneration.fromConfig(plan.config, context, { seed, tokenizer: plan.tokenizer, imageProcessing: plan.imageProcessing });
 * await applyBlip2Init(model, section.init, context);
 */
export async function resolveBlip2Config(
  config: Json | undefined,
  init: Blip2Init,
  options: { tokenizer?: string } = {},
): Promise<Blip2InitPlan> {
  const given: Json = config ?? {};
  for (const name of ['vision_config', 'qformer_config', 'text_config']) {
    if (given[name] !== undefined && !isRecord(given[name])) throw new MmftError('E_CONFIG', `model.config.${name} must be an object`);
  }
  const out: Json = { ...given };
  let visionFolder: HfFolder | undefined;
  if (init.vision) {
    visionFolder = await readHfFolder(init.vision, { modelName: 'CLIP or BLIP-2' });
    const type = partType(visionFolder, 'vision', [...CLIP_TYPES, 'blip-2']);
    const base =
      type === 'blip-2'
        ? withoutFields(subConfig(visionFolder, 'vision_config'), ['model_type', ...FILE_FIELDS])
        : blip2VisionConfigFromClip(visionFolder.config, `${init.vision}/config.json`);
    out.vision_config = { ...base, ...(given.vision_config as Json | undefined) };
  }
  if (init.qformer) {
    const folder = await readHfFolder(init.qformer, { modelName: 'BLIP-2' });
    partType(folder, 'qformer', ['blip-2']);
    const base = withoutFields(subConfig(folder, 'qformer_config'), ['model_type', 'encoder_hidden_size', 'use_qformer_text_input', ...FILE_FIELDS]);
    out.qformer_config = { ...base, ...(given.qformer_config as Json | undefined) };
    if (given.num_query_tokens === undefined && folder.config.num_query_tokens !== undefined) out.num_query_tokens = folder.config.num_query_tokens;
  }
  if (init.language_model) {
    const folder = await readHfFolder(init.language_model, { modelName: 'causal language model' });
    const type = partType(folder, 'language_model', undefined);
    const explicit = given.text_config as Json | undefined;
    if (explicit?.model_type !== undefined && explicit.model_type !== type) {
      throw new MmftError(
        'E_CONFIG',
        `model.config.text_config.model_type is ${JSON.stringify(explicit.model_type)} but init.language_model (${init.language_model}) holds a "${type}" model`,
        { hint: 'leave text_config.model_type out: it comes from the language model folder' },
      );
    }
    out.text_config = { ...withoutFields(folder.config, FILE_FIELDS), ...explicit };
  }
  let imageProcessing: ImageProcessing | undefined;
  if (visionFolder?.preprocessor) {
    const vision = out.vision_config as Json;
    const size = typeof vision.image_size === 'number' ? vision.image_size : 224;
    const { image_mean, image_std } = visionFolder.preprocessor;
    // BLIP-2 resizes to the square of image_size (BlipImageProcessor); only the normalisation comes from CLIP's processor.
    imageProcessing = parseBlipImageProcessing({ image_mean, image_std }, size, `${init.vision}/preprocessor_config.json`);
  }
  const tokenizer = options.tokenizer ?? init.language_model;
  return {
    config: out as Blip2ConfigInput,
    ...(tokenizer ? { tokenizer } : {}),
    ...(imageProcessing ? { imageProcessing } : {}),
  };
}

/** Reads a part folder's weights as float32 (F16 / BF16 upcast by the reader). */
async function readPart(dir: string, field: string, accepted: readonly string[] | undefined) {
  const folder = await readHfFolder(dir, { modelName: field === 'vision' ? 'CLIP or BLIP-2' : 'BLIP-2' });
  const type = partType(folder, field, accepted);
  const { tensors, files } = await readShardedSafetensors(dir);
  return { type, tensors: new Map(tensors), file: files.length === 1 ? files[0]! : `${dir}/model.safetensors.index.json` };
}

const asTensor = (t: SafetensorsTensor, name: string, file: string): Tensor => {
  if (!(t.data instanceof Float32Array))
    throw new MmftError('E_CHECKPOINT', `${file}: ${name} is ${t.dtype}, expected a floating-point tensor`);
  return { shape: t.shape, data: t.data };
};

/**
 * Checks every (target name, tensor) against the model's variables (name known, shape equal),
 * then writes them all: a failing part leaves the model as it was.
 */
function assignChecked(variables: Map<string, tf.Variable>, writes: Map<string, Tensor & { from: string }>, file: string): number {
  for (const [name, tensor] of writes) {
    const variable = variables.get(name);
    if (!variable) throw new MmftError('E_CHECKPOINT', `${file}: ${tensor.from} maps to ${name}, which this BLIP-2 does not have`);
    if (!sameShape(variable.shape, tensor.shape)) {
      throw new MmftError(
        'E_CHECKPOINT',
        `${file}: ${tensor.from} has shape ${shapeText(tensor.shape)} but ${name} of this BLIP-2 is ${shapeText(variable.shape)}`,
        { hint: 'leave the shape fields (hidden_size, image_size, num_query_tokens, ...) out of model.config so they come from the part folders' },
      );
    }
  }
  for (const [name, tensor] of writes) {
    const variable = variables.get(name)!;
    tf.tidy(() => variable.assign(tf.tensor(tensor.data, [...tensor.shape], 'float32')));
  }
  return writes.size;
}

function missing(file: string, name: string, needed: string): never {
  throw new MmftError('E_CHECKPOINT', `${file} has no tensor ${name} (needed for ${needed})`, {
    hint: 'init.vision takes the folder a CLIPModel / CLIPVisionModel was saved to with save_pretrained (keys vision_model.*)',
  });
}

/** Rows of a row-major [rows, width] matrix, each minus its own mean over `width` (the LN centring C = I − 11ᵀ/D acts on hidden dims). */
function centreOverHidden(rows: Float64Array[]): Float64Array[] {
  return rows.map((row) => {
    const mean = row.reduce((a, c) => a + c, 0) / row.length;
    return row.map((c) => c - mean);
  });
}

/** The conv kernel [D, 3, p, p] as K = 3·p·p columns of D: column k is what input pixel k adds to the hidden dims. */
function convColumns(conv: Tensor): Float64Array[] {
  const d = conv.shape[0]!;
  const k = conv.data.length / d;
  return Array.from({ length: k }, (_, col) => Float64Array.from({ length: d }, (__, o) => conv.data[o * k + col]!));
}

/**
 * What a patch's normalised pixels are taken to be, each with per-channel mean 0 and variance 1
 * (what the image processor's mean / std make of the images they were computed on): `iid`
 * independent pixels (the default: it assumes no image structure); `flat` one value per channel
 * over the patch, channels independent; `flat-grey` one value for the whole patch.
 */
export type PixelModel = 'iid' | 'flat' | 'flat-grey';

/**
 * A weight-only stand-in for the per-token std of CLIP's patch embeddings e_i = W·x_i + bias + pos[i]:
 * sqrt(mean over patch positions i of E[var_hidden(e_i)] + eps), the RMS of the token std (RMS, not
 * mean, because the variance is what adds up over tokens and pixels). Var over hidden dims is
 * ‖C·v‖² / D with C = I − 11ᵀ/D, so E[var(e_i)] = (‖C·(bias + pos[i])‖² + tr(C W Σ Wᵀ C)) / D, Σ the
 * pixel covariance of `pixels` (iid: tr = ‖C·W‖²_F). The true std depends on the images; on
 * models/clip-shapes-base the three models give 0.29 / 0.77 / 0.19 against a measured 0.41, and iid
 * errs low, where the tower degrades more slowly (docs/blip2.md "Composing from parts"). Where the
 * images are known, measuring the std and passing init.vision_pre_layernorm_scale is better.
 */
export function estimateClipEmbeddingStd(
  conv: Tensor,
  positions: Tensor,
  eps: number,
  options: { convBias?: Float32Array; pixels?: PixelModel } = {},
): number {
  const d = conv.shape[0]!;
  const patch = conv.shape[2]! * conv.shape[3]!;
  const channels = conv.shape[1]!;
  const cols = centreOverHidden(convColumns(conv));
  const sq = (v: Float64Array) => v.reduce((a, c) => a + c * c, 0);
  let pixelTerm = 0;
  const model = options.pixels ?? 'iid';
  if (model === 'iid') for (const col of cols) pixelTerm += sq(col);
  else {
    const sums = Array.from({ length: model === 'flat' ? channels : 1 }, () => new Float64Array(d));
    cols.forEach((col, k) => {
      const target = sums[model === 'flat' ? Math.floor(k / patch) : 0]!;
      col.forEach((c, o) => (target[o] += c));
    });
    for (const sum of sums) pixelTerm += sq(sum);
  }
  const n = positions.shape[0]!;
  const rows = Array.from({ length: n - 1 }, (_, i) =>
    Float64Array.from({ length: d }, (__, o) => positions.data[(i + 1) * d + o]! + (options.convBias?.[o] ?? 0)),
  );
  const posTerm = centreOverHidden(rows).reduce((a, row) => a + sq(row), 0) / (n - 1);
  return Math.sqrt((posTerm + pixelTerm) / d + eps);
}

/**
 * CLIP's pre_layrnorm LN(e) = g ⊙ (e − mean(e)) / sqrt(var(e) + eps) + b folded into Blip2VisionEmbeddings.
 * The class token's embedding class_embedding + pos[0] is a constant: its LN is the new class
 * embedding and position row 0 becomes zero (exact). A patch token's centring is linear, so it moves
 * into the conv kernel and the position rows: W' = diag(g/σ)·C·W, bias' = diag(g/σ)·C·bias + b,
 * pos'[i] = diag(g/σ)·C·pos[i]; only its own std cannot, and the fixed σ stands in for it.
 */
function foldPreLayerNorm(
  parts: { cls: Tensor; conv: Tensor; convBias?: Float32Array; pos: Tensor; weight: Tensor; bias: Tensor },
  eps: number,
  sigma: number,
) {
  const { cls, conv, pos, weight: g, bias: b } = parts;
  const d = cls.data.length;
  const n = pos.shape[0]!;
  const first = Float64Array.from(cls.data, (c, o) => c + pos.data[o]!);
  const mean = first.reduce((a, c) => a + c, 0) / d;
  const variance = first.reduce((a, c) => a + (c - mean) ** 2, 0) / d;
  const newCls = Float32Array.from(first, (c, o) => ((c - mean) / Math.sqrt(variance + eps)) * g.data[o]! + b.data[o]!);

  const k = conv.data.length / d;
  const newConv = new Float32Array(conv.data.length);
  centreOverHidden(convColumns(conv)).forEach((col, c) => col.forEach((v, o) => (newConv[o * k + c] = (g.data[o]! / sigma) * v)));
  const [centredBias] = centreOverHidden([Float64Array.from({ length: d }, (_, o) => parts.convBias?.[o] ?? 0)]);
  const newBias = Float32Array.from(centredBias!, (v, o) => (g.data[o]! / sigma) * v + b.data[o]!);
  const newPos = new Float32Array(pos.data.length); // row 0 stays zero: the class token's position is inside newCls
  const rows = centreOverHidden(Array.from({ length: n - 1 }, (_, i) => Float64Array.from(pos.data.subarray((i + 1) * d, (i + 2) * d))));
  rows.forEach((row, i) => row.forEach((v, o) => (newPos[(i + 1) * d + o] = (g.data[o]! / sigma) * v)));
  return { cls: newCls, conv: newConv, convBias: newBias, pos: newPos };
}

export interface ClipPreLayerNormOptions {
  readonly mode: 'fold' | 'drop';
  /** With fold: σ; absent, estimateClipEmbeddingStd. */
  readonly scale?: number;
  /** vision_config.layer_norm_eps (CLIP's pre_layrnorm uses the same). */
  readonly eps: number;
}

/** CLIP `vision_model.*` tensors under Blip2VisionModel names (see the file comment), and what had no place. */
function clipToBlip2Vision(tensors: Map<string, SafetensorsTensor>, numLayers: number, file: string, preLayerNorm: ClipPreLayerNormOptions) {
  const writes = new Map<string, Tensor & { from: string }>();
  const used = new Set<string>(['vision_model.embeddings.position_ids']);
  const get = (name: string, needed: string): Tensor => {
    const t = tensors.get(`vision_model.${name}`);
    if (!t) missing(file, `vision_model.${name}`, needed);
    used.add(`vision_model.${name}`);
    return asTensor(t, `vision_model.${name}`, file);
  };
  const put = (target: string, shape: readonly number[], data: Float32Array, from: string) =>
    writes.set(`vision_model.${target}`, { shape, data, from });
  const copy = (name: string, target = name) => {
    const t = get(name, `vision_model.${target}`);
    put(target, t.shape, t.data, `vision_model.${name}`);
  };

  const cls = get('embeddings.class_embedding', 'vision_model.embeddings.class_embedding');
  const conv = get('embeddings.patch_embedding.weight', 'vision_model.embeddings.patch_embedding.weight');
  const convBias = tensors.has('vision_model.embeddings.patch_embedding.bias')
    ? get('embeddings.patch_embedding.bias', 'vision_model.embeddings.patch_embedding.bias').data
    : undefined;
  const pos = get('embeddings.position_embedding.weight', 'vision_model.embeddings.position_embedding');
  const d = conv.shape[0]!;
  const convBiasFrom = convBias ? 'vision_model.embeddings.patch_embedding.bias' : '(zeros: CLIP patch conv has no bias)';
  let report: PreLayerNormReport = { mode: 'drop' };
  if (preLayerNorm.mode === 'fold') {
    const needed = 'vision_pre_layernorm: fold';
    const weight = get('pre_layrnorm.weight', needed);
    const bias = get('pre_layrnorm.bias', needed);
    if (cls.data.length !== d || pos.shape[1] !== d || weight.data.length !== d || bias.data.length !== d) {
      throw new MmftError(
        'E_CHECKPOINT',
        `${file}: the embeddings disagree in width (class_embedding ${shapeText(cls.shape)}, patch_embedding.weight ${shapeText(conv.shape)}, ` +
          `position_embedding.weight ${shapeText(pos.shape)}, pre_layrnorm.weight ${shapeText(weight.shape)})`,
      );
    }
    const scale = preLayerNorm.scale ?? estimateClipEmbeddingStd(conv, pos, preLayerNorm.eps, { convBias });
    const folded = foldPreLayerNorm({ cls, conv, convBias, pos, weight, bias }, preLayerNorm.eps, scale);
    const from = (name: string) => `vision_model.${name}`; // shapes are the source's; the fold is in the report
    put('embeddings.class_embedding', [1, 1, d], folded.cls, from('embeddings.class_embedding'));
    put('embeddings.patch_embedding.weight', conv.shape, folded.conv, from('embeddings.patch_embedding.weight'));
    put('embeddings.patch_embedding.bias', [d], folded.convBias, convBias ? 'vision_model.pre_layrnorm.bias and patch_embedding.bias' : 'vision_model.pre_layrnorm.bias');
    put('embeddings.position_embedding', [1, ...pos.shape], folded.pos, from('embeddings.position_embedding.weight'));
    report = { mode: 'fold', scale, scaleFrom: preLayerNorm.scale === undefined ? 'weights' : 'given', classToken: 'exact' };
  } else {
    put('embeddings.class_embedding', [1, 1, ...cls.shape], cls.data, 'vision_model.embeddings.class_embedding');
    put('embeddings.patch_embedding.weight', conv.shape, conv.data, 'vision_model.embeddings.patch_embedding.weight');
    put('embeddings.patch_embedding.bias', [d], convBias ?? new Float32Array(d), convBiasFrom);
    put('embeddings.position_embedding', [1, ...pos.shape], pos.data, 'vision_model.embeddings.position_embedding.weight');
  }

  for (let l = 0; l < numLayers; l++) {
    const at = `encoder.layers.${l}`;
    const proj = (p: 'q' | 'k' | 'v', kind: 'weight' | 'bias') => get(`${at}.self_attn.${p}_proj.${kind}`, `vision_model.${at}.self_attn.qkv.${kind}`);
    const [q, k, v] = [proj('q', 'weight'), proj('k', 'weight'), proj('v', 'weight')];
    if (!sameShape(q.shape, k.shape) || !sameShape(q.shape, v.shape)) {
      throw new MmftError('E_CHECKPOINT', `${file}: ${at}.self_attn q/k/v_proj.weight differ in shape (${[q, k, v].map((t) => shapeText(t.shape)).join(', ')})`);
    }
    const weight = new Float32Array(3 * q.data.length);
    [q, k, v].forEach((t, i) => weight.set(t.data, i * q.data.length));
    put(`${at}.self_attn.qkv.weight`, [3 * q.shape[0]!, ...q.shape.slice(1)], weight, `vision_model.${at}.self_attn.{q,k,v}_proj.weight`);
    const [qb, , vb] = [proj('q', 'bias'), proj('k', 'bias'), proj('v', 'bias')];
    const bias = new Float32Array(3 * qb.data.length); // k third stays zero (file comment)
    bias.set(qb.data, 0);
    bias.set(vb.data, 2 * qb.data.length);
    put(`${at}.self_attn.qkv.bias`, [3 * qb.shape[0]!], bias, `vision_model.${at}.self_attn.{q,v}_proj.bias`);
    for (const kind of ['weight', 'bias']) {
      copy(`${at}.self_attn.out_proj.${kind}`, `${at}.self_attn.projection.${kind}`);
      for (const name of ['layer_norm1', 'layer_norm2', 'mlp.fc1', 'mlp.fc2']) copy(`${at}.${name}.${kind}`);
    }
  }
  for (const kind of ['weight', 'bias']) copy(`post_layernorm.${kind}`);

  const dropped: string[] = [];
  for (const name of tensors.keys()) {
    if (!name.startsWith('vision_model.') || used.has(name)) continue;
    const layer = /^vision_model\.encoder\.layers\.(\d+)\./.exec(name);
    if (name.startsWith('vision_model.pre_layrnorm.') || (layer && Number(layer[1]) >= numLayers)) dropped.push(name);
    else throw new MmftError('E_CHECKPOINT', `${file}: ${name} has no counterpart in Blip2VisionModel`, { hint: 'this CLIP variant is not supported by init.vision' });
  }
  return { writes, dropped: dropped.sort(), preLayerNorm: report };
}

/** Every target tensor under `prefix` (and `extra`) from a BLIP-2 folder of the same names. */
function sameNames(
  tensors: Map<string, SafetensorsTensor>,
  targets: readonly string[],
  file: string,
  field: string,
): Map<string, Tensor & { from: string }> {
  const writes = new Map<string, Tensor & { from: string }>();
  for (const name of targets) {
    const t = tensors.get(name);
    if (!t) {
      throw new MmftError('E_CHECKPOINT', `${file} has no tensor ${name} (init.${field})`, {
        hint: 'the folder must hold a BLIP-2 whose shapes match model.config (leave shape fields out of model.config to take them from the folder)',
      });
    }
    writes.set(name, { ...asTensor(t, name, file), from: name });
  }
  return writes;
}

/**
 * What `applyBlip2Init` writes into: a Blip2ForConditionalGeneration, or a model without a
 * language model (Blip2ForImageTextRetrieval), which then takes no `init.language_model`.
 */
export interface Blip2InitTarget {
  readonly root: { stateDict(): Map<string, tf.Variable> };
  readonly config: Pick<Blip2ForConditionalGeneration['config'], 'vision_config' | 'text_config'>;
  readonly languageModel?: { readonly root: { stateDict(): Map<string, tf.Variable> } };
}

/**
 * Replaces the fresh weights of `model` (built from `resolveBlip2Config(...).config`) by the parts
 * in `init`. The language model comes through `context` (its plugin's fromPretrained, so every
 * family's own naming and legacy keys apply) and is copied tensor by tensor. A missing or
 * mis-shaped tensor is an E_CHECKPOINT error naming it (and both shapes); nothing is written for
 * a part that fails.
 *
 * @example
 * const report = await applyBlip2Init(model, { vision: 'models/clip-shapes-base', language_model: 'models/opt-shapes-base' }, context);
 * report.vision?.preLayerNorm; // { mode: 'fold', scale: 0.29, scaleFrom: 'weights', classToken: 'exact' }
 */
export async function applyBlip2Init(
  model: Blip2InitTarget,
  init: Blip2Init,
  context?: ArchitectureContext,
): Promise<Blip2InitReport> {
  const variables = model.root.stateDict();
  const names = [...variables.keys()];
  const report: { -readonly [K in keyof Blip2InitReport]: Blip2InitReport[K] } = {};

  if (init.vision) {
    const part = await readPart(init.vision, 'vision', [...CLIP_TYPES, 'blip-2']);
    if (part.type === 'blip-2') {
      if (init.vision_pre_layernorm_scale !== undefined) {
        throw new MmftError('E_CONFIG', `init.vision_pre_layernorm_scale is given but init.vision (${init.vision}) is a BLIP-2 folder, which has no pre_layrnorm to fold`, {
          hint: 'remove vision_pre_layernorm_scale: it applies to CLIP folders only',
        });
      }
      fuseLegacyQkvBias(part.tensors);
      const targets = names.filter((n) => n.startsWith('vision_model.'));
      const writes = sameNames(part.tensors, targets, part.file, 'vision');
      const dropped = [...part.tensors.keys()].filter((n) => n.startsWith('vision_model.') && !writes.has(n));
      report.vision = { dir: init.vision, format: 'blip-2', copied: assignChecked(variables, writes, part.file), dropped };
    } else {
      const { num_hidden_layers: layers, layer_norm_eps: eps } = model.config.vision_config;
      const mode = init.vision_pre_layernorm ?? 'fold';
      if (mode === 'drop' && init.vision_pre_layernorm_scale !== undefined) {
        throw new MmftError('E_CONFIG', 'init.vision_pre_layernorm_scale is given but init.vision_pre_layernorm is drop; the scale is used only when folding', {
          hint: 'remove vision_pre_layernorm_scale or set vision_pre_layernorm: fold',
        });
      }
      const options = { mode, eps, ...(init.vision_pre_layernorm_scale !== undefined ? { scale: init.vision_pre_layernorm_scale } : {}) };
      const { writes, dropped, preLayerNorm } = clipToBlip2Vision(part.tensors, layers, part.file, options);
      report.vision = { dir: init.vision, format: 'clip', copied: assignChecked(variables, writes, part.file), dropped, preLayerNorm };
    }
  }

  if (init.qformer) {
    const part = await readPart(init.qformer, 'qformer', ['blip-2']);
    const targets = names.filter((n) => n === 'query_tokens' || n.startsWith('qformer.'));
    const writes = sameNames(part.tensors, targets, part.file, 'qformer');
    const skipped: string[] = [];
    for (const name of part.tensors.keys()) {
      if (!name.startsWith('qformer.') || writes.has(name)) continue;
      // Allowed leftovers: the text feed-forward a captioning model does not have, and the position_ids buffer.
      if (/^qformer\.encoder\.layer\.\d+\.(intermediate|output)\./.test(name) || name === 'qformer.embeddings.position_ids') skipped.push(name);
      else {
        throw new MmftError('E_CHECKPOINT', `${part.file}: ${name} has no counterpart in this BLIP-2's Q-Former`, {
          hint: 'the folder has more Q-Former layers or modules than model.config.qformer_config describes; leave those fields out of model.config',
        });
      }
    }
    report.qformer = { dir: init.qformer, copied: assignChecked(variables, writes, part.file), skipped };
  }

  if (init.language_model) {
    const dir = init.language_model;
    const expected = model.config.text_config.model_type;
    const target = model.languageModel;
    if (!target) {
      throw new MmftError('E_CONFIG', `init.language_model (${dir}) is given but this BLIP-2 has no language model`, {
        hint: 'remove init.language_model (a stage-1 retrieval model holds only the vision tower and the Q-Former)',
      });
    }
    if (!context) {
      throw new MmftError('E_CONFIG', `init.language_model (${dir}) is loaded through the plugin of its model_type, and no plugin registry was given`, {
        hint: 'pass architectureContext(registry) as applyBlip2Init’s third argument',
      });
    }
    const loaded: VisionLanguageModel = await context.resolveModelType(expected).fromPretrained(dir, {}, context);
    try {
      if (!isCausalLanguageModel(loaded) || loaded.modelType !== expected) {
        throw new MmftError(
          'E_CONFIG',
          `init.language_model: ${dir} holds a "${loaded.modelType}" ${loaded.family} model; this BLIP-2's text_config.model_type is "${expected}"`,
          { hint: 'build the model from resolveBlip2Config(...) so text_config comes from the language model folder' },
        );
      }
      const source = loaded.root.stateDict();
      const writes = new Map<string, Tensor & { from: string }>();
      for (const [name, variable] of target.root.stateDict()) {
        const from = source.get(name);
        if (!from) throw new MmftError('E_CHECKPOINT', `${dir}: the loaded ${expected} model has no parameter ${name} (language_model.${name})`);
        writes.set(`language_model.${name}`, { shape: from.shape, data: from.dataSync() as Float32Array, from: name });
        if (variable.dtype !== 'float32') throw new MmftError('E_CHECKPOINT', `language_model.${name} is ${variable.dtype}, expected float32`);
      }
      report.languageModel = { dir, copied: assignChecked(variables, writes, dir) };
    } finally {
      loaded.dispose();
    }
  }
  return report;
}
