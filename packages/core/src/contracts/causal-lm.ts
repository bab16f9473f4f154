// The causal language model contract (OPTForCausalLM, GPT2LMHeadModel, LlamaForCausalLM): what
// objectives, bridges (BLIP-2, LLaVA, Flamingo), `mmft generate` and serving use of a decoder-only
// LM, in transformers' vocabulary (modeling_utils.py, generation/utils.py).
import type { Tensor } from '@tensorflow/tfjs-core';
import type { VisionLanguageModel } from './architecture';
import type { GenerationOptions, GenerationResult, ModelInputs } from './model';

/** Outputs of a causal LM's forward: logits [B, T, V] and, with labels, the mean (or / numItemsInBatch) loss. */
export type CausalLMOutputs = {
  readonly logits: Tensor;
  readonly loss?: Tensor;
};

/** One step of a streamed generation: per returned row, the new token (or -1 once the row is done) and the text it completes. */
export interface GenerationChunk {
  readonly tokens: readonly number[];
  /**
   * Per row, the text that became final with this token (transformers' TextStreamer prints text
   * only up to the last complete word or character, so a multi-byte character is never split).
   */
  readonly texts: readonly string[];
}

/**
 * A decoder-only language model. `forward` with `pastKeyValues` (a `DynamicCache` from
 * `@mmft/core/nn`) appends this call's keys/values to it; `attentionMask` then covers past and new
 * positions. Generation options not given come from `generationConfig` (generation_config.json).
 */
export interface CausalLanguageModel extends VisionLanguageModel {
  readonly family: 'language-model';
  /** generation_config.json as read (snake_case keys), or what config.json implies when absent. */
  readonly generationConfig: Readonly<Record<string, unknown>>;
  /** Decoder layers, i.e. the layers a KeyValueCache holds. */
  readonly numLayers: number;
  /** The input embeddings of ids [B, T] → [B, T, D] (get_input_embeddings): bridges splice images into these. */
  embedTokens(inputIds: Tensor): Tensor;
  forward(inputs: ModelInputs): CausalLMOutputs;
  generate(inputs: ModelInputs, options?: GenerationOptions): Promise<GenerationResult>;
  /** The same decoding, one chunk per step (serving streams these). */
  generateStream(inputs: ModelInputs, options?: GenerationOptions): AsyncIterable<GenerationChunk>;
}

/** Whether a loaded model is a causal LM (family 'language-model' with the methods above). */
export function isCausalLanguageModel(model: VisionLanguageModel): model is CausalLanguageModel {
  const m = model as Partial<CausalLanguageModel>;
  return model.family === 'language-model' && typeof m.embedTokens === 'function' && typeof m.generateStream === 'function';
}
