// config.json of an OPT checkpoint (transformers' OPTConfig, models/opt/configuration_opt.py) as a zod
// schema with HF's defaults, plus the recipe section `model: { type: opt }` (a checkpoint folder, or
// OPTConfig fields with a tokenizer folder for fresh weights).
import { modelSectionSchema } from '@mmft/core';
import { z } from 'zod';

const positiveInt = z.number().int().positive();
const probability = z.number().min(0).max(1);
const tokenId = z.number().int().nonnegative().nullable();

/**
 * OPTConfig (configuration_opt.py): defaults of facebook/opt-125m. `word_embed_proj_dim` left out
 * (or null) means `hidden_size`, as OPTConfig.__post_init__ sets it; parseOptConfig fills it in.
 * Unknown keys (architectures, torch_dtype, prefix, activation_dropout...) are kept and saved back.
 */
export const optConfigSchema = z.looseObject({
  model_type: z.literal('opt').default('opt').describe('must be "opt"'),
  vocab_size: positiveInt.default(50272).describe('rows of the token embedding (the OPT tokenizer uses 50265 of them)'),
  hidden_size: positiveInt.default(768).describe('width of the decoder'),
  num_hidden_layers: positiveInt.default(12).describe('number of decoder layers'),
  ffn_dim: positiveInt.default(3072).describe('width of fc1, the MLP inside each layer'),
  num_attention_heads: positiveInt.default(12).describe('attention heads per layer; must divide hidden_size'),
  max_position_embeddings: positiveInt.default(2048).describe('longest sequence; the position table holds this + 2 rows (offset 2)'),
  do_layer_norm_before: z.boolean().default(true).describe('pre-LayerNorm layers (every OPT size but 350m, which is post-LN)'),
  _remove_final_layer_norm: z
    .boolean()
    .default(false)
    .describe('drop decoder.final_layer_norm (checkpoints fine-tuned before transformers 4.20.1)'),
  word_embed_proj_dim: positiveInt
    .nullable()
    .optional()
    .describe('width of the token embeddings; ≠ hidden_size adds project_in / project_out (opt-350m: 512); default hidden_size'),
  enable_bias: z.boolean().default(true).describe('bias on q/k/v/out_proj, fc1 and fc2'),
  layer_norm_elementwise_affine: z.boolean().default(true).describe('LayerNorms learn weight and bias'),
  activation_function: z.string().default('relu').describe('MLP activation by HF name (relu, gelu, gelu_new, silu...)'),
  dropout: probability.default(0.1).describe('residual dropout after out_proj and after fc2, while training'),
  attention_dropout: probability.default(0).describe('dropout on attention probabilities, while training'),
  layerdrop: probability
    .default(0)
    .describe('LayerDrop probability (training only; mmft trains every layer, so training refuses a value above 0)'),
  init_std: z.number().nonnegative().default(0.02).describe('std of the normal initialisation of Linear and Embedding weights'),
  use_cache: z.boolean().default(true).describe('generation keeps a key/value cache'),
  pad_token_id: tokenId.default(1).describe('<pad> id'),
  bos_token_id: tokenId.default(2).describe('</s> id: OPT starts every text with </s>'),
  eos_token_id: tokenId.default(2).describe('</s> id'),
  tie_word_embeddings: z.boolean().default(true).describe('lm_head.weight is model.decoder.embed_tokens.weight (absent from the file)'),
});
/** A parsed config.json: every default filled in, `word_embed_proj_dim` resolved to a number. */
export type OptConfig = z.output<typeof optConfigSchema> & { readonly word_embed_proj_dim: number };
/** A config.json as written by hand or by HF: any field may be left out. */
export type OptConfigInput = z.input<typeof optConfigSchema>;

/**
 * The recipe section `model: { type: opt, ... }`: a checkpoint folder, or OPTConfig fields plus a
 * tokenizer folder for a freshly initialised model. Paths are relative to the recipe file.
 *
 * @example
 * model: { type: opt, checkpoint: ../models/opt-shapes-base }
 * model: { type: opt, config: { hidden_size: 128, num_hidden_layers: 2, ffn_dim: 512, num_attention_heads: 4 }, tokenizer: ../models/opt-shapes-base, seed: 0 }
 */
export const optSectionSchema = modelSectionSchema(optConfigSchema, {
  config: 'OPTConfig fields (hidden_size, num_hidden_layers, ffn_dim...) for fresh weights',
  checkpoint: 'config.json, model.safetensors, tokenizer.json, generation_config.json',
});
export type OptSectionConfig = z.output<typeof optSectionSchema>;
