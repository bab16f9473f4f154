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
  /** Restore the original modules. */
  remove(): void;
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
