// config.json of a LLaVA checkpoint (transformers' LlavaConfig, src/transformers/models/llava/
// configuration_llava.py) with transformers' defaults, and the recipe section `model: { type: llava }`.
// vision_config and text_config are their towers' own config.json; their model_type picks the plugin
// that builds them (default clip_vision_model and llama, as LlavaConfig.__init__ does) and that plugin
// fills their defaults.
import { MmftError, modelSectionSchema } from '@mmft/core';
import { z } from 'zod';
import { llavaInitSchema } from './init-schema';

/**
 * The vision_config LlavaConfig builds when none is given (llava-1.5's CLIP ViT-L/14-336), as
 * configuration_llava.py writes it; a vision_config given without model_type is a clip_vision_model.
 */
export const LLAVA_DEFAULT_VISION_CONFIG: Readonly<Record<string, unknown>> = Object.freeze({
  model_type: 'clip_vision_model',
  intermediate_size: 4096,
  hidden_size: 1024,
  patch_size: 14,
  image_size: 336,
  num_hidden_layers: 24,
  num_attention_heads: 16,
  vocab_size: 32000,
  projection_dim: 768,
});

const layerIndex = z.number().int();

/** LlavaConfig without its sub-configs' contents (the towers' plugins parse those). */
export const llavaConfigJsonSchema = z.looseObject({
  model_type: z.literal('llava').default('llava').describe('must be "llava"'),
  vision_config: z
    .looseObject({ model_type: z.string().min(1).default('clip_vision_model') })
    .default({ ...LLAVA_DEFAULT_VISION_CONFIG, model_type: 'clip_vision_model' })
    .describe('the vision tower config.json; model_type names the vision-encoder plugin (default clip_vision_model)'),
  text_config: z
    .looseObject({ model_type: z.string().min(1).default('llama') })
    .default({ model_type: 'llama' })
    .describe('the language model config.json; model_type names the causal-LM plugin (default llama)'),
  image_token_index: z.number().int().nonnegative().default(32000).describe('id of <image> in the tokenizer (alias image_token_id)'),
  projector_hidden_act: z
    .string()
    .default('gelu')
    .describe('activation between linear_1 and linear_2 by HF name (gelu is the exact erf form)'),
  vision_feature_select_strategy: z
    .enum(['default', 'full'])
    .default('default')
    .describe('default drops position 0 (the CLS token) of the chosen hidden states; full keeps it'),
  vision_feature_layer: z
    .union([layerIndex, z.array(layerIndex).min(1)])
    .default(-2)
    .describe('hidden state(s) of the vision tower read (negative from the end); a list is concatenated on the feature axis'),
  image_seq_length: z
    .number()
    .int()
    .positive()
    .default(576)
    .describe('informational (image tokens per image); the processor computes the count'),
  multimodal_projector_bias: z.boolean().default(true).describe('bias on the projector linears'),
  tie_word_embeddings: z.boolean().default(false).describe('kept for transformers; the language model ties its own head'),
  mm_projector_type: z
    .string()
    .regex(/^(linear|mlp\d+x_gelu)$/)
    .optional()
    .describe(
      'original LLaVA builder name: linear (linear_1 only) or mlpNx_gelu (linear_1 … linear_N with GELU between); absent, the HF projector (linear_1, act, linear_2)',
    ),
});

export type LlavaConfigInput = z.input<typeof llavaConfigJsonSchema> & { image_token_id?: number };

/** A parsed LlavaConfig: sub-configs as written with model_type filled. */
export type LlavaConfigJson = Readonly<Record<string, unknown>> & {
  readonly model_type: 'llava';
  readonly vision_config: Readonly<Record<string, unknown>> & { readonly model_type: string };
  readonly text_config: Readonly<Record<string, unknown>> & { readonly model_type: string };
  readonly image_token_index: number;
  readonly projector_hidden_act: string;
  readonly vision_feature_select_strategy: 'default' | 'full';
  readonly vision_feature_layer: number | number[];
  readonly image_seq_length: number;
  readonly multimodal_projector_bias: boolean;
  readonly tie_word_embeddings: boolean;
  readonly mm_projector_type?: string;
};

/**
 * Parses a config.json object (or a recipe's `config:`) with LlavaConfig's defaults; `image_token_id`
 * is LlavaConfig's attribute_map alias of image_token_index. Errors name `source` and the field.
 *
 * @example
 * parseLlavaConfig({ text_config: { model_type: 'llama' } }, 'config.json').vision_feature_layer; // -2
 */
export function parseLlavaConfig(raw: unknown, source: string): LlavaConfigJson {
  const input = { ...((raw ?? {}) as Record<string, unknown>) };
  if (input.image_token_index === undefined && typeof input.image_token_id === 'number') input.image_token_index = input.image_token_id;
  delete input.image_token_id;
  const parsed = llavaConfigJsonSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new MmftError('E_CONFIG', `${source}: field "${issue.path.join('.') || '(root)'}": ${issue.message}`, {
      hint: 'LlavaConfig fields: vision_config, text_config, image_token_index, projector_hidden_act, vision_feature_layer, vision_feature_select_strategy',
    });
  }
  return parsed.data as LlavaConfigJson;
}

/**
 * The recipe section `model: { type: llava, ... }`: a checkpoint folder (either key layout), or
 * LlavaConfig fields plus a tokenizer folder for fresh weights.
 *
 * @example
 * model: { type: llava, checkpoint: ../models/llava-shapes-base }
 */
/**
 * The section's `config:`: LlavaConfig's fields with no defaults filled (fromConfig fills them), so
 * that with `init:` the parts' vision_config, text_config and `<image>` id are not hidden by
 * LlavaConfig's defaults (a ViT-L/14 tower, llama, image_token_index 32000), as the BLIP-2 section
 * leaves its sub-configs unset (packages/plugins/arch-blip2/src/config.ts).
 */
const llavaSectionConfigSchema = z.looseObject(
  Object.fromEntries(
    Object.entries(llavaConfigJsonSchema.shape).map(([key, field]) => {
      const bare = field instanceof z.ZodDefault ? (field.unwrap() as z.ZodType) : (field as z.ZodType);
      const open = key === 'vision_config' || key === 'text_config' ? z.looseObject({ model_type: z.string().min(1).optional() }) : bare;
      return [key, open.optional().describe(field.description ?? key)];
    }),
  ),
) as unknown as z.ZodType<LlavaConfigInput, LlavaConfigInput>;

export const llavaConfigSchema = modelSectionSchema(
  llavaSectionConfigSchema,
  {
    config:
      'LlavaConfig fields (vision_config and text_config with their model_type, image_token_index, vision_feature_layer, ...) for fresh weights',
  },
  {
    init: llavaInitSchema
      .optional()
      .describe(
        'with config: folders the fresh model takes its parts from (vision: CLIP; language_model: a causal LM, <image> added when its tokenizer lacks it); the projector is new',
      ),
  },
);

export type LlavaConfig = z.output<typeof llavaConfigSchema>;
