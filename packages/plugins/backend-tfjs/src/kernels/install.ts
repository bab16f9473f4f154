// Installs and removes mmft's kernel overrides with tfjs-core's own registry (docs/conventions.md §9), as
// tfjs backends register kernels (tfjs-backend-wasm/src/register_all_kernels.ts) with
// tfjs-core/src/kernel_registry.ts. The stock kernel is kept so the override can delegate to it and
// removal can put it back. mmft's fused kernels (@mmft/core/kernels) are kernels no backend has,
// registered the same way with their gradients (tfjs-core's registerGradient).
import {
  getGradient,
  getKernel,
  registerGradient,
  registerKernel,
  unregisterGradient,
  unregisterKernel,
  type KernelConfig,
} from '@tensorflow/tfjs-core';
import { loadNativeKernels } from '@mmft/native-kernels';
import type { InstallOptions, KernelOverride } from './override';
import { CPU_KERNELS } from './cpu';
import { WASM_KERNELS } from './wasm';

/** Every override mmft ships, by tfjs backend name. Backends not listed get none. */
export const KERNEL_OVERRIDES: Readonly<Record<string, readonly KernelOverride[]>> = {
  wasm: WASM_KERNELS,
  cpu: CPU_KERNELS,
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
