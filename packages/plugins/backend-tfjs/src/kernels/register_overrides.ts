// Installs and removes mmft's kernel overrides with tfjs-core's own registry (STYLE.md §9), as
// tfjs backends register kernels (tfjs-backend-wasm/src/register_all_kernels.ts). The stock
// kernel is kept so the override can delegate to it and removal can put it back. mmft's fused
// kernels (LayerNorm, GELUs, AdamW) are kernels no backend has, registered the same way with their
// gradients (tfjs-core's registerGradient), for wasm and cpu.
import { getGradient, getKernel, registerGradient, registerKernel, unregisterGradient, unregisterKernel, type GradConfig, type KernelConfig } from '@tensorflow/tfjs-core';
import { loadNativeKernels, type NativeKernels } from '@mmft/native-kernels';
import { Add, BatchMatMul, Cast, GatherV2, Identity, Sum, UnsortedSegmentSum } from './kernel_names';
import { makeWasmBatchMatMul } from './wasm/BatchMatMul';
import { makeWasmSum } from './wasm/Sum';
import { makeWasmCast, makeWasmIdentity } from './wasm/Identity';
import { makeWasmGatherV2 } from './wasm/GatherV2';
import { makeWasmAdd } from './wasm/Add';
import { wasmUnsortedSegmentSum } from './wasm/UnsortedSegmentSum';
import { wasmAdamWUpdate } from './wasm/AdamWUpdate';
import { wasmLayerNorm } from './wasm/LayerNorm';
import { wasmLayerNormGrad } from './wasm/LayerNormGrad';
import { wasmQuickGelu, wasmQuickGeluGrad } from './wasm/QuickGelu';
import { wasmAttention, wasmAttentionGrad } from './wasm/Attention';
import { wasmSumOfSquares } from './wasm/SumOfSquares';
import { wasmLinear, wasmLinearGradInput, wasmLinearGradWeight, wasmLinearNoBias } from './wasm/Linear';
import { wasmMaskedSoftmax, wasmMaskedSoftmaxGrad, wasmSoftmax, wasmSoftmaxGrad } from './wasm/Softmax';
import type { NativeFusedKernel } from './wasm/fused_utils';
import { cpuAdamWUpdate } from './cpu/AdamWUpdate';
import { cpuGelu } from './cpu/Gelu';
import { cpuGeluGrad } from './cpu/GeluGrad';
import { cpuLayerNorm } from './cpu/LayerNorm';
import { cpuLayerNormGrad } from './cpu/LayerNormGrad';
import { cpuQuickGelu } from './cpu/QuickGelu';
import { cpuQuickGeluGrad } from './cpu/QuickGeluGrad';
import { geluGradConfig } from './gradients/Gelu_grad';
import { layerNormGradConfig } from './gradients/LayerNorm_grad';
import { quickGeluGradConfig } from './gradients/QuickGelu_grad';
import { maskedSoftmaxGradConfig, softmaxGradConfig } from './gradients/Softmax_grad';
import { attentionGradConfig } from './gradients/Attention_grad';
import { linearGradConfig, linearNoBiasGradConfig } from './gradients/Linear_grad';

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
  /** Native kernels it runs on: installed only where the addon is loaded and has all of them. */
  readonly needsNative?: readonly NativeFusedKernel[];
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
const fusedKernel = (config: KernelConfig, gradient?: GradConfig, needsNative?: readonly NativeFusedKernel[]): KernelOverride => ({
  kernelName: config.kernelName,
  backendName: config.backendName,
  fillsMissing: true,
  fused: true,
  gradient,
  needsNative,
  make: () => config,
});

/** Every override mmft ships, by tfjs backend name. Backends not listed get none. */
export const KERNEL_OVERRIDES: Readonly<Record<string, readonly KernelOverride[]>> = {
  wasm: [
    { kernelName: BatchMatMul, backendName: 'wasm', make: (stock, { native }) => makeWasmBatchMatMul(stock!, native) },
    { kernelName: Sum, backendName: 'wasm', make: (stock) => makeWasmSum(stock!) },
    { kernelName: Identity, backendName: 'wasm', make: (stock) => makeWasmIdentity(stock!) },
    { kernelName: Cast, backendName: 'wasm', make: (stock) => makeWasmCast(stock!) },
    { kernelName: GatherV2, backendName: 'wasm', make: (stock) => makeWasmGatherV2(stock!) },
    { kernelName: UnsortedSegmentSum, backendName: 'wasm', fillsMissing: true, make: () => wasmUnsortedSegmentSum },
    fusedKernel(wasmLayerNorm, layerNormGradConfig),
    fusedKernel(wasmLayerNormGrad),
    fusedKernel(wasmAdamWUpdate),
    // Native only: in JavaScript quick_gelu lost to wasm's vectorised Sigmoid and Multiply
    // (docs/backends.md), and softmax has no JavaScript loop worth keeping. No fused exact GELU
    // on wasm (CLIP uses quick_gelu); the cpu backend's own kernels are JavaScript, so it wins there.
    fusedKernel(wasmQuickGelu, quickGeluGradConfig, ['quickGelu']),
    fusedKernel(wasmQuickGeluGrad, undefined, ['quickGeluGrad']),
    fusedKernel(wasmSoftmax, softmaxGradConfig, ['softmax']),
    fusedKernel(wasmSoftmaxGrad, undefined, ['softmaxGrad']),
    fusedKernel(wasmMaskedSoftmax, maskedSoftmaxGradConfig, ['softmax']),
    fusedKernel(wasmMaskedSoftmaxGrad, undefined, ['softmaxGrad']),
    fusedKernel(wasmAttention, attentionGradConfig, ['attention']),
    fusedKernel(wasmAttentionGrad, undefined, ['attentionGrad']),
    fusedKernel(wasmLinear, linearGradConfig, ['addRepeated']),
    fusedKernel(wasmLinearNoBias, linearNoBiasGradConfig, ['addRepeated']),
    fusedKernel(wasmLinearGradInput, undefined, ['addRepeated']),
    fusedKernel(wasmLinearGradWeight, undefined, ['addRepeated']),
    fusedKernel(wasmSumOfSquares, undefined, ['sumOfSquares']),
    // Last, as it needs the addon too: without it the stock Add stays.
    { kernelName: Add, backendName: 'wasm', needsNative: ['addRepeated'], make: (stock) => makeWasmAdd(stock!) },
  ],
  cpu: [
    fusedKernel(cpuLayerNorm, layerNormGradConfig),
    fusedKernel(cpuLayerNormGrad),
    fusedKernel(cpuQuickGelu, quickGeluGradConfig),
    fusedKernel(cpuQuickGeluGrad),
    fusedKernel(cpuGelu, geluGradConfig),
    fusedKernel(cpuGeluGrad),
    fusedKernel(cpuAdamWUpdate),
  ],
};

// Process-global like tfjs's own kernel registry: two copies of this plugin must agree on what
// is installed, or the second would wrap the first's override instead of the stock kernel.
const STATE_KEY = Symbol.for('@mmft/backend-tfjs:kernel-overrides');
type Installed = Map<string, { readonly stock: KernelConfig | undefined; readonly override: KernelOverride; readonly native: boolean }>;
function installed(): Installed {
  const holder = globalThis as unknown as Record<symbol, Installed | undefined>;
  return (holder[STATE_KEY] ??= new Map());
}
const keyOf = (kernelName: string, backendName: string): string => `${backendName}/${kernelName}`;

/**
 * Replace the stock kernels of `backendName` that mmft overrides; returns the kernel names
 * installed (already-installed ones included). Idempotent.
 *
 * @example
 * installKernelOverrides('wasm'); // ['BatchMatMul', 'Sum', 'Identity', 'Cast', 'GatherV2', 'UnsortedSegmentSum', 'MmftLayerNorm', …]
 * installKernelOverrides('wasm', { native: false }); // the same, without the native GEMM
 * installKernelOverrides('wasm', { fused: false }); // the stock-kernel overrides only
 */
export function installKernelOverrides(backendName: string, options: InstallOptions = {}): string[] {
  const names: string[] = [];
  const native = options.native === false ? undefined : loadNativeKernels();
  for (const override of KERNEL_OVERRIDES[backendName] ?? []) {
    const key = keyOf(override.kernelName, override.backendName);
    const fused = options.fused ?? true;
    const unwanted = override.fused && (fused === false || (Array.isArray(fused) && !fused.includes(override.kernelName)));
    const unsupported = override.needsNative?.some((name) => typeof native?.[name] !== 'function') ?? false;
    if (unwanted || unsupported) {
      uninstall(key);
      continue;
    }
    const current = installed().get(key);
    // Installed with the other native setting: put the stock kernel back, then install anew.
    if (current && current.native !== (native !== undefined)) uninstall(key);
    if (!installed().has(key)) {
      const stock = getKernel(override.kernelName, override.backendName);
      // The backend package registers its kernels when required; without it there is nothing to
      // wrap. A kernel that fills a gap is skipped once a future tfjs ships its own.
      if ((stock === undefined) !== (override.fillsMissing === true)) continue;
      if (stock) unregisterKernel(override.kernelName, override.backendName);
      registerKernel(override.make(stock, { native }));
      installed().set(key, { stock, override, native: native !== undefined });
      // Another backend's copy of this kernel may have registered it already.
      if (override.gradient && !getGradient(override.kernelName)) registerGradient(override.gradient);
    }
    names.push(override.kernelName);
  }
  return names;
}

/** Put back what `key` replaced (nothing, for a filled gap); drop its gradient once no backend has the kernel. */
function uninstall(key: string): void {
  const entry = installed().get(key);
  if (!entry) return;
  const { stock, override } = entry;
  unregisterKernel(override.kernelName, override.backendName);
  if (stock) registerKernel(stock);
  installed().delete(key);
  const stillUsed = [...installed().values()].some((other) => other.override.kernelName === override.kernelName);
  if (override.gradient && !stillUsed && getGradient(override.kernelName) === override.gradient) unregisterGradient(override.kernelName);
}

/** Put the stock kernels back (all backends, or only `backendName`). */
export function removeKernelOverrides(backendName?: string): void {
  for (const [key, { override }] of installed()) {
    if (backendName === undefined || override.backendName === backendName) uninstall(key);
  }
}

/** Names of the overrides installed now for `backendName`. */
export function installedKernelOverrides(backendName: string): string[] {
  return [...installed().values()].filter((entry) => entry.override.backendName === backendName).map((entry) => entry.override.kernelName);
}
