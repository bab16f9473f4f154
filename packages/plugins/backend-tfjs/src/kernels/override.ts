// What a kernel override is: which kernel of which backend, how to build it from the stock kernel,
// and what it needs (the native addon, a gradient). The lists are wasm/index.ts and cpu/index.ts;
// install.ts registers them with tfjs-core's own registry.
import type { GradConfig, KernelConfig } from '@tensorflow/tfjs-core';
import type { NativeKernels, NativeSymbol } from '@mmft/native-kernels';

/**
 * An override: which kernel of which backend, and how to build it from the stock kernel. A kernel
 * the backend lacks entirely is an override with no stock kernel (`make(undefined)`).
 */
export interface KernelOverride {
  readonly kernelName: string;
  readonly backendName: string;
  /** True when the override fills a kernel the backend does not have. */
  readonly fillsMissing?: boolean;
  /** True for mmft's fused kernels (installOptions.fused: false leaves them out). */
  readonly fused?: boolean;
  /** Native kernels it runs on only: installed only where the addon is loaded and has all of them. */
  readonly needsNative?: readonly NativeSymbol[];
  /** Native kernels it runs on where the addon is loaded, else its JavaScript path (for `mmft env`). */
  readonly usesNative?: readonly NativeSymbol[];
  /** Gradient registered with the kernel (tfjs-core's registry is by kernel name, all backends). */
  readonly gradient?: GradConfig;
  make(stock: KernelConfig | undefined, context: OverrideContext): KernelConfig;
}

/** What an override may build on besides the stock kernel. */
export interface OverrideContext {
  /** The optional native kernels, when built on this machine and allowed (see installKernelOverrides). */
  readonly native?: NativeKernels;
}

/** Options of installKernelOverrides. */
export interface InstallOptions {
  /** Use @mmft/native-kernels where it is built (default true; MMFT_NATIVE=0 also turns it off). */
  readonly native?: boolean;
  /**
   * Install mmft's fused kernels too (default true); false keeps only the overrides of stock
   * kernels; a list installs only the fused kernels named (benchmarks measure them one by one).
   */
  readonly fused?: boolean | readonly string[];
}

/** A fused kernel: fills a name no backend has, with its gradient when it has one. */
export const fusedKernel = (
  config: KernelConfig,
  options: {
    readonly gradient?: GradConfig;
    readonly needsNative?: readonly NativeSymbol[];
    readonly usesNative?: readonly NativeSymbol[];
  } = {},
): KernelOverride => ({
  kernelName: config.kernelName,
  backendName: config.backendName,
  fillsMissing: true,
  fused: true,
  ...options,
  make: () => config,
});
