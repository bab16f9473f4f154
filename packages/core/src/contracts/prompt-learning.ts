// Prompt learning on causal language models at the model level, as PEFT's PeftModelForCausalLM
// does it (peft/peft_model.py forward and prepare_inputs_for_generation): prefix tuning puts
// trainable keys/values of every layer in front of the KV cache, prompt tuning prepends trainable
// embeddings to the input embeddings. A causal LM implements this hook once (core's CausalLMBase),
// so every family gets both methods without family code; a PEFT plugin finds the hook from the
// module tree it is given (PeftMethodProvider.apply receives the root module only).
import type { Tensor } from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module';
import type { CausalLanguageModel } from './causal-lm';

/** One layer's prefix: keys and values [B, numKeyValueHeads, P, headDim], as a KeyValueCache holds them. */
export interface LayerKeyValues {
  readonly key: Tensor;
  readonly value: Tensor;
}

/**
 * What an attached prompt-learning adapter gives the model. The model owns (and disposes) what
 * these functions return.
 * - `prefix`: called when a sequence starts (no cache, or an empty one); `keyValues(B)` has one
 *   entry per decoder layer and goes into the cache before the real tokens.
 * - `prompt`: called when a sequence starts; `embeddings(B)` is [B, P, D], prepended to the input
 *   embeddings (the labels get P leading -100).
 * On every forward the 0/1 attention mask gains P leading ones, as PEFT widens it.
 */
export type CausalLmPromptSource =
  | { readonly kind: 'prefix'; readonly numVirtualTokens: number; keyValues(batchSize: number): LayerKeyValues[] }
  | { readonly kind: 'prompt'; readonly numVirtualTokens: number; embeddings(batchSize: number): Tensor };

/** A causal LM that prompt-learning adapters can attach to. */
export interface CausalLmPromptHost extends CausalLanguageModel {
  /** The attached source, if any. */
  readonly promptSource: CausalLmPromptSource | undefined;
  /** Attaches a source (replacing the previous one) or detaches it. */
  setPromptSource(source: CausalLmPromptSource | undefined): void;
}

const hosts = new WeakMap<object, CausalLmPromptHost>();

/**
 * Declares `host` as the model whose module tree is `root` (CausalLMBase does this once).
 *
 * @example
 * registerCausalLmPromptHost(this.root, this);
 */
export function registerCausalLmPromptHost(root: Module, host: CausalLmPromptHost): void {
  hosts.set(root, host);
}

/**
 * The causal LM whose module tree is `root`, when it accepts prompt-learning sources.
 *
 * @example
 * const host = causalLmPromptHost(model.root); // undefined for CLIP
 */
export function causalLmPromptHost(root: Module): CausalLmPromptHost | undefined {
  return hosts.get(root);
}
