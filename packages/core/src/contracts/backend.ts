// Backend contract: which tensor engine runs a job and what it can do. A backend plugin probes the
// engines that are installed (tfjs-node-gpu, tfjs-node, wasm, cpu), picks one and installs its
// kernel overrides; the trainer and the kernels (QLoRA, fused ops) read `capabilities`.
import type { ProviderBase } from './provider';

/** What a selected engine supports; kernels and strategies check it before use. */
export interface BackendCapabilities {
  /** tfjs backend name as registered with tfjs-core ("wasm", "cpu", "tensorflow"). */
  readonly engine: string;
  readonly gpu: boolean;
  /** Threads the engine actually uses for math (wasm in Node: 1). */
  readonly threads: number;
  /** Names of kernels replaced or added by mmft on this engine (declared in core's kernels/kernel_names.ts). */
  readonly kernelOverrides: readonly string[];
  /** True when 16-bit float storage is native; otherwise mmft keeps f32 (tfjs has no f16 dtype). */
  readonly float16: boolean;
}

/** One engine the backend tried, in preference order, and why it was or was not taken. */
export interface BackendProbe {
  readonly name: string;
  readonly available: boolean;
  readonly reason: string;
}

/** The outcome of backend selection; `mmft env` prints it. */
export interface BackendSelection {
  readonly name: string;
  readonly reason: string;
  readonly probes: readonly BackendProbe[];
  readonly capabilities: BackendCapabilities;
}

/** Selects and initialises a tensor engine. Only one selection is active per process. */
export interface BackendProvider<Config = unknown> extends ProviderBase<Config> {
  readonly kind: 'backend';
  /** Probe without side effects (used by `mmft env`). */
  probe(config: Config): Promise<readonly BackendProbe[]>;
  /** Set the engine up (tf.setBackend + kernel overrides) and say what was picked. */
  select(config: Config): Promise<BackendSelection>;
}

declare module './kinds' {
  interface ProviderKindMap {
    backend: BackendProvider;
  }
}
