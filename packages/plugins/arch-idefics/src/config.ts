// config.json of an IDEFICS checkpoint (transformers' IdeficsConfig, IdeficsVisionConfig and
// IdeficsPerceiverConfig in src/transformers/models/idefics/configuration_idefics.py) with their
// defaults, and the recipe section `model: { type: idefics }`. The language-model fields sit at the
// top level as in IdeficsConfig; the parts are built through the registry as a `llama` and a
// `clip_vision_model` (docs/bridges.md says how the fields map).
import { MmftError, modelSectionSchema } from '@mmft/core';
import { z } from 'zod';
import { ideficsInitSchema } from './init-schema';

const positive = () => z.number().int().positive();

/** IdeficsVisionConfig (CLIP-like; `embed_dim` is CLIP's hidden_size). */
export const ideficsVisionConfigSchema = z.looseObject({
  embed_dim: positive().default(768).describe('width of the vision tower (CLIP hidden_size)'),
  image_size: positive().default(224).describe('side of the square input image in pixels'),
  intermediate_size: positive().default(5120).describe('vision MLP width'),
  patch_size: positive().default(14).describe('side of one patch in pixels'),
  num_hidden_layers: positive().default(32).describe('vision encoder layers'),
  num_attention_heads: positive().default(16).describe('vision attention heads'),
  num_channels: positive().default(3).describe('image channels'),
  hidden_act: z.string().default('gelu').describe('vision MLP activation by HF name (IDEFICS: exact gelu, not quick_gelu)'),
  layer_norm_eps: z.number().positive().default(1e-5).describe('LayerNorm epsilon of the vision tower'),
  attention_dropout: z.number().min(0).max(1).default(0).describe('vision attention dropout'),
  initializer_range: z.number().positive().default(0.02).describe('std of the vision initialisers'),
});

/** IdeficsPerceiverConfig. */
export const ideficsPerceiverConfigSchema = z.looseObject({
  use_resampler: z.boolean().default(false).describe('kept as written; IdeficsConfig.use_resampler decides'),
  resampler_n_latents: positive().default(64).describe('latents per image (image tokens the cross-attention reads)'),
  resampler_depth: positive().default(6).describe('attention + MLP blocks of the resampler'),
  resampler_n_heads: positive().default(16).describe('resampler attention heads'),
  resampler_head_dim: positive().default(96).describe('width of one resampler head'),
  qk_layer_norms_perceiver: z.literal(false).default(false).describe('LayerNorm on resampler queries and keys (not supported: false)'),
});

/** IdeficsConfig, with the two fields mmft adds when no tokenizer says them (`image_token_id`). */
export const ideficsConfigJsonSchema = z.looseObject({
  model_type: z.literal('idefics').default('idefics').describe('must be "idefics"'),
  vocab_size: positive().default(32000).describe('rows of the language model embedding'),
  additional_vocab_size: z
    .number()
    .int()
    .nonnegative()
    .default(0)
    .describe('IdeficsDecoupledEmbedding extra rows (ids vocab_size … vocab_size + additional_vocab_size − 1, e.g. <image>)'),
  hidden_size: positive().default(4096).describe('width of the language model'),
  intermediate_size: positive().default(11008).describe('MLP width of decoder and gated cross-attention layers'),
  num_hidden_layers: positive().default(32).describe('decoder layers'),
  num_attention_heads: positive().default(32).describe('heads of the decoder and of the gated cross-attention'),
  dropout: z.number().min(0).max(1).default(0).describe('dropout of the language model'),
  hidden_act: z.string().default('silu').describe('MLP activation of decoder and gated layers'),
  initializer_range: z.number().positive().default(0.02).describe('std of the language-model initialisers'),
  alpha_initializer: z
    .enum(['zeros', 'ones', 'normal', 'gaussian', 'random'])
    .default('zeros')
    .describe('initial value of the tanh gates (zeros: an untrained bridge leaves the language model unchanged)'),
  alphas_initializer_range: z.number().min(0).default(0).describe('std of the gates when alpha_initializer is normal'),
  alpha_type: z.enum(['float', 'vector']).default('float').describe('gate shape: float [1] or vector [1, 1, hidden_size]'),
  rms_norm_eps: z.number().positive().default(1e-6).describe('RMSNorm epsilon'),
  use_cache: z.boolean().default(true).describe('generation keeps the decoder key/value cache'),
  pad_token_id: z.number().int().nonnegative().default(0).describe('padding id'),
  bos_token_id: z.number().int().nonnegative().default(1).describe('beginning-of-sequence id'),
  eos_token_id: z.number().int().nonnegative().default(2).describe('end-of-sequence id (resets the image a token attends to)'),
  tie_word_embeddings: z.boolean().default(false).describe('lm_head shares the embedding matrix'),
  cross_layer_interval: positive().default(1).describe('a gated cross-attention block before every n-th decoder layer'),
  qk_layer_norms: z.literal(false).default(false).describe('LayerNorm on cross-attention queries and keys (not supported: false)'),
  freeze_text_layers: z.boolean().default(true).describe('kept for transformers'),
  freeze_lm_head: z.boolean().default(false).describe('kept for transformers'),
  freeze_vision_layers: z.boolean().default(true).describe('kept for transformers'),
  use_resampler: z.boolean().default(false).describe('run the Perceiver resampler on the vision features'),
  max_position_embeddings: positive().default(2048).describe('rotary table length (IdeficsEmbedding default)'),
  vision_config: ideficsVisionConfigSchema.default(ideficsVisionConfigSchema.parse({})).describe('IdeficsVisionConfig'),
  perceiver_config: ideficsPerceiverConfigSchema.default(ideficsPerceiverConfigSchema.parse({})).describe('IdeficsPerceiverConfig'),
  image_token_id: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe('id of <image> when the tokenizer does not have it (IDEFICS looks it up in the tokenizer)'),
});

export type IdeficsConfigInput = z.input<typeof ideficsConfigJsonSchema>;
export type IdeficsConfigJson = z.output<typeof ideficsConfigJsonSchema>;

/**
 * Parses config.json (or a recipe's `config:`) with IdeficsConfig's defaults; errors name `source`
 * and the field.
 *
 * @example
 * parseIdeficsConfig({ num_hidden_layers: 4, cross_layer_interval: 2 }, 'config.json').alpha_type; // 'float'
 */
export function parseIdeficsConfig(raw: unknown, source: string): IdeficsConfigJson {
  const parsed = ideficsConfigJsonSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new MmftError('E_CONFIG', `${source}: field "${issue.path.join('.') || '(root)'}": ${issue.message}`, {
      hint: 'IdeficsConfig fields: vocab_size, hidden_size, num_hidden_layers, cross_layer_interval, alpha_type, use_resampler, vision_config, perceiver_config',
    });
  }
  const config = parsed.data;
  if (config.num_hidden_layers % config.cross_layer_interval !== 0) {
    // IdeficsModel builds num_hidden_layers // interval blocks but indexes idx // interval for every idx % interval == 0.
    throw new MmftError(
      'E_CONFIG',
      `${source}: num_hidden_layers (${config.num_hidden_layers}) is not a multiple of cross_layer_interval (${config.cross_layer_interval})`,
      { hint: 'IdeficsModel would index a gated cross-attention block it does not have; pick an interval that divides the layer count' },
    );
  }
  if (config.hidden_size % config.num_attention_heads !== 0) {
    throw new MmftError(
      'E_CONFIG',
      `${source}: hidden_size (${config.hidden_size}) is not divisible by num_attention_heads (${config.num_attention_heads})`,
    );
  }
  return config;
}

/** The `llama` config the language model is built from (IdeficsDecoderLayer is LlamaDecoderLayer's layout, bias-free, MHA). */
export function textConfigOf(config: IdeficsConfigJson): Record<string, unknown> {
  return {
    model_type: 'llama',
    // The decoupled extra rows join the table (decoupled.ts).
    vocab_size: config.vocab_size + config.additional_vocab_size,
    hidden_size: config.hidden_size,
    intermediate_size: config.intermediate_size,
    num_hidden_layers: config.num_hidden_layers,
    num_attention_heads: config.num_attention_heads,
    num_key_value_heads: config.num_attention_heads,
    hidden_act: config.hidden_act,
    rms_norm_eps: config.rms_norm_eps,
    initializer_range: config.initializer_range,
    max_position_embeddings: config.max_position_embeddings,
    rope_theta: 10000,
    tie_word_embeddings: config.tie_word_embeddings,
    pad_token_id: config.pad_token_id,
    bos_token_id: config.bos_token_id,
    eos_token_id: config.eos_token_id,
  };
}

/** The `clip_vision_model` config the vision tower is built from (IdeficsVisionTransformer is CLIP's vision transformer). */
export function visionConfigOf(config: IdeficsConfigJson): Record<string, unknown> {
  const v = config.vision_config;
  return {
    model_type: 'clip_vision_model',
    hidden_size: v.embed_dim,
    image_size: v.image_size,
    intermediate_size: v.intermediate_size,
    patch_size: v.patch_size,
    num_hidden_layers: v.num_hidden_layers,
    num_attention_heads: v.num_attention_heads,
    num_channels: v.num_channels,
    hidden_act: v.hidden_act,
    layer_norm_eps: v.layer_norm_eps,
    attention_dropout: v.attention_dropout,
    initializer_range: v.initializer_range,
  };
}

/**
 * The recipe section `model: { type: idefics, ... }`: a checkpoint folder, or IdeficsConfig fields
 * plus a tokenizer folder for fresh weights.
 *
 * @example
 * model: { type: idefics, checkpoint: ../models/idefics-tiny }
 * model: { type: idefics, config: { use_resampler: true }, init: { vision: ../models/clip-shapes-base, language_model: ../models/llama-shapes-base }, seed: 0 }
 */
/** `schema`'s fields, each optional with no default filled (nested objects likewise). */
function bareFields(schema: z.ZodObject, nested: Readonly<Record<string, z.ZodObject>> = {}): z.ZodType {
  return z.looseObject(
    Object.fromEntries(
      Object.entries(schema.shape).map(([key, field]) => {
        const bare = nested[key]
          ? bareFields(nested[key])
          : field instanceof z.ZodDefault
            ? (field.unwrap() as z.ZodType)
            : (field as z.ZodType);
        return [key, bare.optional().describe((field as z.ZodType).description ?? key)];
      }),
    ),
  );
}

/**
 * The section's `config:`: IdeficsConfig's fields with no defaults filled (fromConfig fills them),
 * so that with `init:` the parts' fields are not hidden by IdeficsConfig's defaults (hidden_size
 * 4096, a ViT-H vision_config), as LLaVA's section does (packages/plugins/arch-llava/src/config.ts).
 */
const ideficsSectionConfigSchema = bareFields(ideficsConfigJsonSchema, {
  vision_config: ideficsVisionConfigSchema,
  perceiver_config: ideficsPerceiverConfigSchema,
}) as unknown as z.ZodType<IdeficsConfigInput, IdeficsConfigInput>;

export const ideficsConfigSchema = modelSectionSchema(
  ideficsSectionConfigSchema,
  {
    config:
      'IdeficsConfig fields (hidden_size, num_hidden_layers, cross_layer_interval, vision_config, perceiver_config, ...) for fresh weights',
  },
  {
    init: ideficsInitSchema
      .optional()
      .describe(
        'with config: folders the fresh model takes its parts from (vision: CLIP; language_model: a Llama, <image> added when its tokenizer lacks it); the resampler and gated blocks are new, gates at zero',
      ),
  },
);

export type IdeficsConfig = z.output<typeof ideficsConfigSchema>;
