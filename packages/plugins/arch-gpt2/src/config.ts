// config.json of a GPT-2 checkpoint (HF GPT2Config) as a zod schema whose defaults are those of
// transformers' models/gpt2/configuration_gpt2.py, and the recipe section `model: { type: gpt2 }`
// (checkpoint or config, tokenizer, seed, ignoreUnexpected).
import { modelSectionSchema } from '@mmft/core';
import { z } from 'zod';

const positiveInt = z.number().int().positive();
const probability = z.number().min(0).lt(1);

/**
 * GPT2Config (configuration_gpt2.py `__init__`): the defaults of the 124M "gpt2" checkpoint. HF's
 * attribute_map aliases (hidden_size → n_embd, max_position_embeddings → n_positions,
 * num_attention_heads → n_head, num_hidden_layers → n_layer) are folded in by parseGpt2Config.
 */
export const gpt2ConfigSchema = z.looseObject({
  model_type: z.literal('gpt2').default('gpt2').describe('must be "gpt2"'),
  vocab_size: positiveInt.default(50257).describe('rows of the token embedding wte (and of the tied lm_head)'),
  n_positions: positiveInt.default(1024).describe('rows of the learned position embedding wpe: the longest sequence'),
  n_embd: positiveInt.default(768).describe('hidden width'),
  n_layer: positiveInt.default(12).describe('number of transformer blocks'),
  n_head: positiveInt.default(12).describe('attention heads per block; must divide n_embd'),
  n_inner: positiveInt.nullable().default(null).describe('MLP width; null means 4 · n_embd (GPT2Block)'),
  activation_function: z.string().default('gelu_new').describe('MLP activation by HF name (ACT2FN): gelu_new, gelu, relu, ...'),
  resid_pdrop: probability.default(0.1).describe('dropout after the attention and MLP output projections while training'),
  embd_pdrop: probability.default(0.1).describe('dropout on token + position embeddings while training'),
  attn_pdrop: probability.default(0.1).describe('dropout on attention probabilities while training'),
  layer_norm_epsilon: z.number().positive().default(1e-5).describe('epsilon inside every LayerNorm'),
  initializer_range: z.number().nonnegative().default(0.02).describe('std of the normal init of weights (c_proj: / sqrt(2 · n_layer))'),
  scale_attn_weights: z.boolean().default(true).describe('divide attention scores by sqrt(head_dim)'),
  scale_attn_by_inverse_layer_idx: z.boolean().default(false).describe('further divide the scores of block i by i + 1'),
  reorder_and_upcast_attn: z
    .boolean()
    .default(false)
    .describe('HF computes the scores in f32 with the scale folded in; mmft always does, so both values give the same numbers'),
  add_cross_attention: z.boolean().default(false).describe('cross-attention blocks (encoder-decoder use); only false is supported'),
  use_cache: z.boolean().default(true).describe('keep keys/values of past positions while generating'),
  bos_token_id: z.number().int().nullable().default(50256).describe('<|endoftext|> id'),
  eos_token_id: z
    .union([z.number().int(), z.array(z.number().int())])
    .nullable()
    .default(50256)
    .describe('<|endoftext|> id'),
  pad_token_id: z.number().int().nullable().optional().describe('GPT-2 has no padding token; generate pads finished rows with eos'),
  tie_word_embeddings: z.boolean().default(true).describe('lm_head shares the token embedding wte (absent from model.safetensors)'),
});
/** A parsed config.json with every default filled in; unknown keys are kept for saving. */
export type Gpt2Config = z.infer<typeof gpt2ConfigSchema>;
/** A config.json as written by hand or by HF: any field may be left out. */
export type Gpt2ConfigInput = z.input<typeof gpt2ConfigSchema>;

/**
 * The recipe section `model: { type: gpt2, ... }`: a checkpoint folder, or GPT2Config fields plus a
 * tokenizer folder for a freshly initialised model. Paths are relative to the recipe file.
 *
 * @example
 * model: { type: gpt2, checkpoint: ../models/gpt2-tiny }
 * model: { type: gpt2, config: { n_embd: 64, n_layer: 2, n_head: 4, vocab_size: 300 }, tokenizer: ../models/gpt2-tiny, seed: 0 }
 */
export const gpt2SectionSchema = modelSectionSchema(gpt2ConfigSchema, {
  config: 'GPT2Config fields (n_embd, n_layer, n_head...) for fresh weights',
});
export type Gpt2SectionConfig = z.infer<typeof gpt2SectionSchema>;
