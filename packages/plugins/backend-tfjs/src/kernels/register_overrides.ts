// Installs and removes mmft's kernel overrides with tfjs-core's own registry (STYLE.md §9), as
// tfjs backends register kernels (tfjs-backend-wasm/src/register_all_kernels.ts). The stock
// kernel is kept so the override can delegate to it and removal can put it back.
import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { loadNativeKernels, type NativeKernels } from '@mmft/native-kernels';
import { BatchMatMul, Sum, UnsortedSegmentSum } from './kernel_names';
import { makeWasmBatchMatMul } from './wasm/BatchMatMul';
import { makeWasmSum } from './wasm/Sum';
import { wasmUnsortedSegmentSum } from './wasm/UnsortedSegmentSum';

/**
 * An override: which kernel of which backend, and how to build it from the stock kernel. A kernel
 * the backend lacks entirely is an override with no stock kernel (`make(undefined)`).
 */
export interface KernelOverride {
  readonly kernelName: string;
  readonly backendName: string;
  /** True when the override fills a kernel the backend does not have. */
  readonly fillsMissing?: boolean;
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
}

/** Every override mmft ships, by tfjs backend name. Backends not listed get none. */
export const KERNEL_OVERRIDES: Readonly<Record<string, readonly KernelOverride[]>> = {
  wasm: [
    { kernelName: BatchMatMul, backendName: 'wasm', make: (stock, { native }) => makeWasmBatchMatMul(stock!, native) },
    { kernelName: Sum, backendName: 'wasm', make: (stock) => makeWasmSum(stock!) },
    { kernelName: UnsortedSegmentSum, backendName: 'wasm', fillsMissing: true, make: () => wasmUnsortedSegmentSum },
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
 * installKernelOverrides('wasm'); // ['BatchMatMul', 'UnsortedSegmentSum']
 * installKernelOverrides('wasm', { native: false }); // the same, without the native GEMM
 */
export function installKernelOverrides(backendName: string, options: InstallOptions = {}): string[] {
  const names: string[] = [];
  const native = options.native === false ? undefined : loadNativeKernels();
  for (const override of KERNEL_OVERRIDES[backendName] ?? []) {
    const key = keyOf(override.kernelName, override.backendName);
    const current = installed().get(key);
    if (current && current.native !== (native !== undefined)) {
      // Installed with the other native setting: put the stock kernel back, then install anew.
      unregisterKernel(override.kernelName, override.backendName);
      if (current.stock) registerKernel(current.stock);
      installed().delete(key);
    }
    if (!installed().has(key)) {
      const stock = getKernel(override.kernelName, override.backendName);
      // The backend package registers its kernels when required; without it there is nothing to
      // wrap. A kernel that fills a gap is skipped once a future tfjs ships its own.
      if ((stock === undefined) !== (override.fillsMissing === true)) continue;
      if (stock) unregisterKernel(override.kernelName, override.backendName);
      registerKernel(override.make(stock, { native }));
      installed().set(key, { stock, override, native: native !== undefined });
    }
    names.push(override.kernelName);
  }
  return names;
}

/** Put the stock kernels back (all backends, or only `backendName`). */
export function removeKernelOverrides(backendName?: string): void {
  for (const [key, { stock, override }] of installed()) {
    if (backendName !== undefined && override.backendName !== backendName) continue;
    unregisterKernel(override.kernelName, override.backendName);
    if (stock) registerKernel(stock);
    installed().delete(key);
  }
}

/** Names of the overrides installed now for `backendName`. */
export function installedKernelOverrides(backendName: string): string[] {
  return [...installed().values()].filter((entry) => entry.override.backendName === backendName).map((entry) => entry.override.kernelName);
}
