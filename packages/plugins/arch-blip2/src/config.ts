// config.json of a BLIP-2 checkpoint (transformers' Blip2Config with Blip2VisionConfig and
// Blip2QFormerConfig, models/blip_2/configuration_blip_2.py) as zod schemas whose defaults are
// transformers' (Salesforce/blip2-opt-2.7b shapes), plus the recipe section `model: { type: blip2 }`.
// text_config is the language model's own config.json; its model_type picks the causal-LM plugin
// and that plugin fills its defaults.
import { modelSectionSchema } from '@mmft/core';
import { z } from 'zod';
import { blip2InitSchema } from './checkpoint/init-from-parts';

const positiveInt = z.number().int().positive();
const probability = z.number().min(0).max(1);

/** Blip2VisionConfig: the EVA ViT-g of BLIP-2 (39 layers of width 1408, patch 14, 224 px). */
export const blip2VisionConfigSchema = z.looseObject({
  hidden_size: positiveInt.default(1408).describe('width of the vision transformer'),
  intermediate_size: positiveInt.default(6144).describe('width of the MLP (fc1 outputs)'),
  num_hidden_layers: positiveInt.default(39).describe('encoder layers'),
  num_attention_heads: positiveInt.default(16).describe('attention heads; must divide hidden_size'),
  image_size: positiveInt.default(224).describe('side of the square input image in pixels'),
  patch_size: positiveInt.default(14).describe('side of one patch (the conv kernel and stride)'),
  hidden_act: z.string().default('gelu').describe('MLP activation by HF name (gelu is the exact erf form)'),
  layer_norm_eps: z.number().positive().default(1e-6).describe('epsilon of layer_norm1/2 and post_layernorm'),
  attention_dropout: probability.default(0).describe('dropout on attention probabilities while training'),
  initializer_range: z
    .number()
    .min(0)
    .default(1e-10)
    .describe('std of the truncated-normal init of class_embedding and position_embedding'),
  qkv_bias: z.boolean().default(true).describe('the fused qkv projection has a bias (q and v learned, k zero at init)'),
});

/** Blip2QFormerConfig: a BERT-base encoder whose even layers cross-attend to the image. */
export const blip2QFormerConfigSchema = z.looseObject({
  vocab_size: positiveInt.default(30522).describe('rows of the text word embeddings (retrieval heads only)'),
  hidden_size: positiveInt.default(768).describe('width of the Q-Former'),
  num_hidden_layers: positiveInt.default(12).describe('Q-Former layers'),
  num_attention_heads: positiveInt.default(12).describe('attention heads; must divide hidden_size'),
  intermediate_size: positiveInt.default(3072).describe('width of the feed-forward layers'),
  hidden_act: z.string().default('gelu').describe('feed-forward activation by HF name'),
  hidden_dropout_prob: probability.default(0.1).describe('dropout after the embeddings LayerNorm and on every dense output while training'),
  attention_probs_dropout_prob: probability.default(0.1).describe('dropout on attention probabilities while training'),
  max_position_embeddings: positiveInt.default(512).describe('rows of the text position embeddings (retrieval heads only)'),
  initializer_range: z.number().min(0).default(0.02).describe('std of the normal init (and of the query tokens of a fresh model)'),
  layer_norm_eps: z.number().positive().default(1e-12).describe('epsilon of every LayerNorm of the Q-Former'),
  pad_token_id: z.number().int().nonnegative().default(0).describe('padding id of the text embeddings'),
  cross_attention_frequency: positiveInt.default(2).describe('layer i cross-attends to the image when i % cross_attention_frequency == 0'),
  encoder_hidden_size: positiveInt.default(1408).describe('width of the image features (forced to vision_config.hidden_size)'),
  use_qformer_text_input: z
    .boolean()
    .default(false)
    .describe('layers carry the text feed-forward (intermediate / output) for text positions'),
});

/** Blip2Config without text_config's contents (the language model's plugin parses those). */
export const blip2ConfigSchema = z.looseObject({
  model_type: z.literal('blip-2').default('blip-2').describe('must be "blip-2"'),
  vision_config: z.looseObject({}).default({}).describe('Blip2VisionConfig fields'),
  qformer_config: z.looseObject({}).default({}).describe('Blip2QFormerConfig fields'),
  text_config: z
    .looseObject({ model_type: z.string().min(1).default('opt') })
    .default({ model_type: 'opt' })
    .describe('the language model config.json; model_type names the causal-LM plugin that builds it (default opt, as OPTConfig())'),
  num_query_tokens: positiveInt.default(32).describe('learned query tokens, i.e. image positions in the language model'),
  image_text_hidden_size: positiveInt.default(256).describe('width of the retrieval projections (ITC)'),
  image_token_index: z
    .number()
    .int()
    .nonnegative()
    .nullable()
    .default(null)
    .describe(
      'id of <image>: set, the text carries num_query_tokens image tokens the queries overwrite; null, the queries are prepended (legacy)',
    ),
  initializer_factor: z.number().positive().default(1).describe('kept for transformers; not used by the init'),
  initializer_range: z.number().min(0).default(0.02).describe('std of the normal init of Linear weights outside the language model'),
});

export type Blip2VisionConfig = z.output<typeof blip2VisionConfigSchema>;
export type Blip2QFormerConfig = z.output<typeof blip2QFormerConfigSchema>;
export type Blip2ConfigInput = z.input<typeof blip2ConfigSchema> & {
  vision_config?: z.input<typeof blip2VisionConfigSchema>;
  qformer_config?: z.input<typeof blip2QFormerConfigSchema>;
  image_token_id?: number | null;
};

/** A parsed Blip2Config: sub-configs with their defaults; text_config as written (model_type filled). */
export type Blip2Config = Readonly<Record<string, unknown>> & {
  readonly model_type: 'blip-2';
  readonly vision_config: Blip2VisionConfig;
  readonly qformer_config: Blip2QFormerConfig;
  readonly text_config: Readonly<Record<string, unknown>> & { readonly model_type: string };
  readonly num_query_tokens: number;
  readonly image_text_hidden_size: number;
  readonly image_token_index: number | null;
  readonly initializer_factor: number;
  readonly initializer_range: number;
};

/**
 * Blip2Config as a recipe section writes it: the recipe validator stores the parsed section, so a
 * schema default here would reach the provider as if written and outrank what `init:` folders say
 * (num_query_tokens 32 against a 16-query Q-Former folder). These two stay unset until the model
 * is built, where blip2ConfigSchema fills them.
 */
const blip2SectionConfigSchema = blip2ConfigSchema.extend({
  text_config: z
    .looseObject({ model_type: z.string().min(1).optional() })
    .optional()
    .describe("the language model config.json; model_type names the causal-LM plugin (default opt, or init.language_model's)"),
  num_query_tokens: positiveInt
    .optional()
    .describe("learned query tokens, i.e. image positions in the language model (default 32, or init.qformer's)"),
});

/**
 * The recipe section `model: { type: blip2, ... }`: a checkpoint folder, or Blip2Config fields plus
 * a tokenizer folder for fresh weights (the language model built from text_config by its plugin).
 *
 * @example
 * model: { type: blip2, checkpoint: ../models/blip2-shapes-base }
 */
export const blip2SectionSchema = modelSectionSchema(
  blip2SectionConfigSchema,
  {
    config: 'Blip2Config fields (vision_config, qformer_config, text_config with its model_type, num_query_tokens, ...) for fresh weights',
  },
  {
    init: blip2InitSchema
      .optional()
      .describe(
        'with config: folders the fresh model takes its parts from (vision: CLIP or BLIP-2; qformer: BLIP-2; language_model: a causal LM), their sub-configs filling config',
      ),
  },
);
export type Blip2SectionConfig = z.output<typeof blip2SectionSchema>;

/**
 * The recipe section `model: { type: blip2-retrieval, ... }`: a Blip2ForImageTextRetrieval folder,
 * or Blip2Config fields (qformer_config.use_qformer_text_input defaults to true) plus the Q-Former's
 * tokenizer folder for fresh weights.
 *
 * @example
 * model: { type: blip2-retrieval, config: { num_query_tokens: 16, qformer_config: { bos_token_id: 30522 } }, tokenizer: ../tokenizers/bert }
 */
export const blip2RetrievalSectionSchema = modelSectionSchema(
  blip2SectionConfigSchema,
  {
    config:
      'Blip2Config fields (vision_config, qformer_config with vocab_size, max_position_embeddings and bos_token_id for the decoder start, num_query_tokens, image_text_hidden_size) for fresh weights',
  },
  {
    init: blip2InitSchema
      .omit({ language_model: true })
      .optional()
      .describe('with config: folders the fresh model takes its vision tower (CLIP or BLIP-2) and Q-Former (BLIP-2) from'),
  },
);
export type Blip2RetrievalSectionConfig = z.output<typeof blip2RetrievalSectionSchema>;
