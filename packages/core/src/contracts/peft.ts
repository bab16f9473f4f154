// PEFT contract: a method applies itself to any module tree by name patterns (PEFT's
// `target_modules`), reports its trainable parameters, and saves/loads adapter files in Hugging
// Face PEFT's layout (adapter_config.json + adapter_model.safetensors). Follows peft/tuners/*.
import type { Tensor, Variable } from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module';
import type { ProviderBase } from './provider';

/** Which modules an adapter wraps, as PEFT's config fields. */
export interface TargetSpec {
  /** Name suffixes (`["q_proj", "v_proj"]`) or one regex string matched on the full dotted name. */
  readonly targetModules: readonly string[] | string;
  /** Modules trained fully and saved alongside the adapter (PEFT `modules_to_save`). */
  readonly modulesToSave?: readonly string[];
}

/** One adapter applied to a model, under a name ("default" as in PEFT). */
export interface AppliedAdapter {
  readonly adapterName: string;
  readonly method: string;
  /** Parameters this adapter trains, by their dotted names in the wrapped tree. */
  trainableParameters(): ReadonlyArray<readonly [string, Variable]>;
  /** Tensors keyed exactly as PEFT's adapter_model.safetensors names them. */
  adapterStateDict(): ReadonlyMap<string, Tensor>;
  loadAdapterStateDict(tensors: ReadonlyMap<string, Tensor>): void;
  /** Turn this adapter's effect on or off without removing it (base-model forward). */
  setEnabled(enabled: boolean): void;
  /** Fold the adapter into the base weights (LoRA); absent where a method cannot merge. */
  merge?(): void;
  unmerge?(): void;
  /** Take the adapter out: the original modules come back, except that after a merge the trained modules_to_save copies replace them (PEFT merge_and_unload). */
  remove(): void;
  /**
   * adapter_config.json fields only the applied model knows (prefix tuning's token_dim,
   * num_layers, num_attention_heads); `saveAdapter` merges them over `toAdapterConfig`'s.
   */
  adapterConfigExtras?(): Record<string, unknown>;
}

export interface PeftMethodProvider<Config = unknown> extends ProviderBase<Config> {
  readonly kind: 'peft';
  /** PEFT's `peft_type` written to adapter_config.json ("LORA", "PREFIX_TUNING"...). */
  readonly peftType: string;
  apply(model: Module, config: Config, adapterName: string): AppliedAdapter;
  /** adapter_config.json fields for this config (snake_case, PEFT's names). */
  toAdapterConfig(config: Config, baseModelNameOrPath: string | null): Record<string, unknown>;
  /** Parse an adapter_config.json written by PEFT or mmft; wrong peft_type is an error. */
  fromAdapterConfig(json: Record<string, unknown>, file: string): Config;
}

/**
 * Optional hook an architecture's text path implements so prompt tuning can prepend trainable
 * virtual tokens without editing the architecture (PEFT prepends them to `inputs_embeds`,
 * peft_model.py). While a source is set, the module implementing this must, on every forward:
 * 1. embed the real tokens [B, T, D], then prepend `source(B)` ([B or 1, P, D]) → [B, P+T, D];
 * 2. keep the real tokens' position embeddings at 0..T-1 (virtual tokens get none: a fixed
 *    offset added to a free trainable vector adds nothing, and real tokens keep the positions
 *    they were trained with, so texts padded to the maximum length still fit);
 * 3. widen the 0/1 attention mask with P leading ones and build the causal mask over P+T;
 * 4. shift every pooled position (CLIP's eos pooling, last-token pooling) by P.
 * The output sequence then holds P + T positions, virtual ones first.
 */
export interface PromptInjectionPoint {
  /** Width of one virtual token: the size of the input embeddings. */
  readonly promptTokenDim: number;
  /** Installs the virtual-token source (called once per forward with the batch size), or clears it. */
  setPromptSource(source: ((batchSize: number) => Tensor) | undefined): void;
}

/**
 * True for a module that implements PromptInjectionPoint.
 *
 * @example
 * const points = root.namedModules().filter(([, m]) => isPromptInjectionPoint(m));
 */
export function isPromptInjectionPoint(value: unknown): value is PromptInjectionPoint {
  const v = value as Partial<PromptInjectionPoint> | null;
  return typeof v === 'object' && v !== null && typeof v.promptTokenDim === 'number' && typeof v.setPromptSource === 'function';
}

declare module './kinds' {
  interface ProviderKindMap {
    peft: PeftMethodProvider;
  }
}
