// config.json of a Llama checkpoint (HF LlamaConfig) as a zod schema whose defaults are those of
// transformers' models/llama/configuration_llama.py (v4 fields rope_theta / rope_scaling, and v5's
// rope_parameters read as well), plus the recipe section `model: { type: llama }` (a checkpoint
// folder, or LlamaConfig fields + a tokenizer folder for fresh weights; documented in docs/language-models.md).
import { modelSectionSchema } from '@mmft/core';
import { z } from 'zod';

const positiveInt = z.number().int().positive();
const tokenId = z.number().int().nonnegative();

/** LlamaConfig (configuration_llama.py): defaults of Llama-7B. Unknown keys are kept and saved back. */
export const llamaConfigSchema = z.looseObject({
  model_type: z.literal('llama').default('llama').describe('must be "llama"'),
  vocab_size: positiveInt.default(32000).describe('rows of embed_tokens and lm_head'),
  hidden_size: positiveInt.default(4096).describe('width of the residual stream'),
  intermediate_size: positiveInt.default(11008).describe('width of the SiLU-gated MLP (gate_proj / up_proj outputs)'),
  num_hidden_layers: positiveInt.default(32).describe('decoder layers'),
  num_attention_heads: positiveInt.default(32).describe('query heads per layer'),
  num_key_value_heads: positiveInt
    .nullable()
    .default(null)
    .describe('key/value heads (grouped-query attention); null means num_attention_heads; must divide num_attention_heads'),
  head_dim: positiveInt.nullable().default(null).describe('width of one head; null means hidden_size / num_attention_heads'),
  hidden_act: z.string().default('silu').describe('activation of gate_proj by HF name (silu, gelu, gelu_new, relu...)'),
  max_position_embeddings: positiveInt.default(2048).describe('longest sequence the model was trained on (caps generate)'),
  initializer_range: z.number().min(0).max(1).default(0.02).describe('std of the normal init of every Linear and the embedding'),
  rms_norm_eps: z.number().positive().default(1e-6).describe('epsilon inside every RMSNorm'),
  use_cache: z.boolean().default(true).describe('generation keeps a key/value cache (always true here)'),
  pad_token_id: tokenId.nullable().default(null).describe('padding id; its embedding row is initialised to zeros'),
  bos_token_id: tokenId.nullable().default(1).describe('<s> id'),
  eos_token_id: z
    .union([tokenId, z.array(tokenId)])
    .nullable()
    .default(2)
    .describe('</s> id, or several ids (Llama 3 lists two)'),
  pretraining_tp: positiveInt.nullable().default(1).describe('tensor-parallel slicing of the original run; does not change the math'),
  tie_word_embeddings: z.boolean().default(false).describe('lm_head shares embed_tokens.weight (then lm_head.weight is not saved)'),
  rope_theta: z.number().positive().default(10000).describe('base of the rotary frequencies 1 / theta^(2i/d)'),
  rope_scaling: z
    .looseObject({})
    .nullable()
    .default(null)
    .describe(
      'rotary scaling ({ rope_type | type, factor, ... }); null or rope_type "default" / "linear" (positions divided by factor) are supported',
    ),
  rope_parameters: z
    .looseObject({})
    .nullable()
    .optional()
    .describe('transformers 5 form of rope_theta / rope_scaling ({ rope_type, rope_theta }); read when present'),
  attention_bias: z.boolean().default(false).describe('bias on q_proj, k_proj, v_proj and o_proj'),
  attention_dropout: z.number().min(0).max(1).default(0).describe('dropout on attention probabilities while training'),
  mlp_bias: z.boolean().default(false).describe('bias on gate_proj, up_proj and down_proj'),
});

/** A parsed config.json, every default filled in (num_key_value_heads and head_dim still as written). */
export type LlamaConfigJson = z.output<typeof llamaConfigSchema>;
/** A config.json as written by hand or by HF: any field may be left out. */
export type LlamaConfigInput = z.input<typeof llamaConfigSchema>;
/** The config a model is built from: LlamaConfig.__init__'s resolution of the null fields done. */
export type LlamaConfig = LlamaConfigJson & { readonly num_key_value_heads: number; readonly head_dim: number };

/**
 * The recipe section `model: { type: llama, ... }`: a checkpoint folder, or LlamaConfig fields plus a
 * tokenizer folder for a freshly initialised model (pretraining from scratch). Paths are relative
 * to the recipe file that sets them.
 *
 * @example
 * model: { type: llama, checkpoint: ../models/llama-shapes-base }
 * model: { type: llama, config: { hidden_size: 64, num_hidden_layers: 2, ... }, tokenizer: ../models/llama-shapes-base, seed: 0 }
 */
export const llamaSectionSchema = modelSectionSchema(llamaConfigSchema, {
  config: 'LlamaConfig fields (hidden_size, num_hidden_layers, ...) for fresh weights',
});
export type LlamaSectionConfig = z.output<typeof llamaSectionSchema>;
