// config.json of a CLIP checkpoint (HF CLIPConfig with its text_config / vision_config) as zod
// schemas whose defaults are those of transformers' models/clip/configuration_clip.py, plus the
// recipe section `model: { type: clip }` (checkpoint or config, tokenizer, seed, ignoreUnexpected;
// documented in docs/clip.md).
import { modelSectionSchema } from '@mmft/core';
import { z } from 'zod';

const positiveInt = z.number().int().positive();

/** CLIPTextConfig (configuration_clip.py): defaults of openai/clip-vit-base-patch32's text tower. */
export const clipTextConfigSchema = z.looseObject({
  vocab_size: positiveInt.default(49408).describe('number of token ids the embedding table holds'),
  hidden_size: positiveInt.default(512).describe('width of the text transformer'),
  intermediate_size: positiveInt.default(2048).describe('width of the MLP inside each layer'),
  projection_dim: positiveInt
    .default(512)
    .describe('projection width of CLIPTextModelWithProjection (CLIPModel uses the top-level projection_dim)'),
  num_hidden_layers: positiveInt.default(12).describe('number of transformer layers'),
  num_attention_heads: positiveInt.default(8).describe('attention heads per layer; must divide hidden_size'),
  max_position_embeddings: positiveInt.default(77).describe('longest token sequence (rows of the position embedding)'),
  hidden_act: z.string().default('quick_gelu').describe('MLP activation by HF name: quick_gelu, gelu, gelu_new, relu...'),
  layer_norm_eps: z.number().positive().default(1e-5).describe('epsilon inside every LayerNorm'),
  attention_dropout: z.number().min(0).max(1).default(0).describe('dropout on attention probabilities while training'),
  initializer_range: z.number().nonnegative().default(0.02).describe('std of the normal init of embeddings (vision tower)'),
  initializer_factor: z.number().nonnegative().default(1).describe('scales every init std (1 except in HF init tests)'),
  pad_token_id: z.number().int().default(1).describe('padding token id (HF keeps 1, unlike the tokenizer; see PR #24773)'),
  bos_token_id: z.number().int().default(49406).describe('<|startoftext|> id'),
  eos_token_id: z.number().int().default(49407).describe('<|endoftext|> id; 2 selects the legacy argmax-of-input_ids pooling'),
});
export type ClipTextConfig = z.infer<typeof clipTextConfigSchema>;

/** CLIPVisionConfig (configuration_clip.py): defaults of ViT-B/32. */
export const clipVisionConfigSchema = z.looseObject({
  hidden_size: positiveInt.default(768).describe('width of the vision transformer'),
  intermediate_size: positiveInt.default(3072).describe('width of the MLP inside each layer'),
  projection_dim: positiveInt
    .default(512)
    .describe('projection width of CLIPVisionModelWithProjection (CLIPModel uses the top-level projection_dim)'),
  num_hidden_layers: positiveInt.default(12).describe('number of transformer layers'),
  num_attention_heads: positiveInt.default(12).describe('attention heads per layer; must divide hidden_size'),
  num_channels: positiveInt.default(3).describe('input image channels'),
  image_size: positiveInt.default(224).describe('input height = width in pixels'),
  patch_size: positiveInt.default(32).describe('side of the square patches (conv kernel = stride)'),
  hidden_act: z.string().default('quick_gelu').describe('MLP activation by HF name: quick_gelu, gelu, gelu_new, relu...'),
  layer_norm_eps: z.number().positive().default(1e-5).describe('epsilon inside every LayerNorm'),
  attention_dropout: z.number().min(0).max(1).default(0).describe('dropout on attention probabilities while training'),
  initializer_range: z.number().nonnegative().default(0.02).describe('std of the normal init of patch and position embeddings'),
  initializer_factor: z.number().nonnegative().default(1).describe('scales every init std (1 except in HF init tests)'),
});
export type ClipVisionConfig = z.infer<typeof clipVisionConfigSchema>;

/** CLIPConfig: the two towers, the shared projection width and the initial temperature. */
export const clipConfigSchema = z.looseObject({
  model_type: z.literal('clip').default('clip').describe('must be "clip"'),
  text_config: clipTextConfigSchema.prefault({}).describe('the text tower (CLIPTextConfig fields)'),
  vision_config: clipVisionConfigSchema.prefault({}).describe('the vision tower (CLIPVisionConfig fields)'),
  projection_dim: positiveInt.default(512).describe('width of the joint embedding space (both projections)'),
  logit_scale_init_value: z.number().default(2.6592).describe('initial logit_scale = ln(1/0.07); the model multiplies cosines by its exp'),
  initializer_factor: z.number().nonnegative().default(1).describe('scales the init std of the projections'),
});
/** A parsed config.json with every default filled in; unknown keys are kept for saving. */
export type ClipConfig = z.infer<typeof clipConfigSchema>;
/** A config.json as written by hand or by HF: any field may be left out. */
export type ClipConfigInput = z.input<typeof clipConfigSchema>;

/**
 * The recipe section `model: { type: clip, ... }`: a checkpoint folder, or CLIPConfig fields plus
 * a tokenizer folder for a freshly initialised model (pretraining from scratch). Paths are
 * relative to the recipe file that sets them (recipePath: validateRecipe makes them absolute).
 *
 * @example
 * model: { type: clip, checkpoint: ../models/clip-shapes-base }
 * model: { type: clip, checkpoint: ../models/clip-shapes-base, adapter: ../runs/clip-shapes-lora/checkpoint-best/adapter }
 * model: { type: clip, config: { projection_dim: 128, ... }, tokenizer: ../models/shapes-tokenizer, seed: 0 }
 */
export const clipSectionSchema = modelSectionSchema(clipConfigSchema, {
  config: 'CLIPConfig fields (text_config, vision_config, projection_dim...) for fresh weights',
  checkpoint: 'config.json, model.safetensors, tokenizer.json',
});
export type ClipSectionConfig = z.infer<typeof clipSectionSchema>;

/**
 * config.json of a CLIPVisionModel folder: CLIPVisionConfig's fields at the top level, tagged
 * `model_type: clip_vision_model` (configuration_clip.py, CLIPVisionConfig.model_type). LLaVA's
 * `vision_config` is exactly this object.
 */
export const clipVisionModelConfigSchema = clipVisionConfigSchema.extend({
  model_type: z.literal('clip_vision_model').default('clip_vision_model').describe('must be "clip_vision_model"'),
});
/** A parsed CLIPVisionModel config.json with every default filled in; unknown keys are kept for saving. */
export type ClipVisionModelConfig = z.infer<typeof clipVisionModelConfigSchema>;
/** A CLIPVisionModel config.json as written by hand or by HF: any field may be left out. */
export type ClipVisionModelConfigInput = z.input<typeof clipVisionModelConfigSchema>;

/**
 * The recipe section `model: { type: clip-vision }`: a CLIPVisionModel or CLIPModel folder (its
 * vision tower), or CLIPVisionConfig fields for fresh weights. A vision encoder has no tokenizer.
 *
 * @example
 * model: { type: clip-vision, checkpoint: ../models/clip-shapes-base }
 * model: { type: clip-vision, config: { hidden_size: 64, num_hidden_layers: 2, image_size: 32, patch_size: 8 }, seed: 0 }
 */
export const clipVisionSectionSchema = modelSectionSchema(clipVisionModelConfigSchema, {
  config: 'CLIPVisionConfig fields (hidden_size, num_hidden_layers, image_size, patch_size...) for fresh weights',
  checkpoint:
    'a CLIPVisionModel folder (config.json, model.safetensors, preprocessor_config.json) or a CLIPModel folder, whose vision tower is taken',
});
export type ClipVisionSectionConfig = z.infer<typeof clipVisionSectionSchema>;
