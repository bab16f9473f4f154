// What the selected engine can do, as the trainer and kernels read it (BackendCapabilities in
// packages/core/src/contracts/backend.ts). Thread counts are what the engine really uses.
import * as os from 'node:os';
import { env } from '@tensorflow/tfjs-core';
import type { BackendCapabilities } from '@mmft/core';
import { nativeKernelsStatus } from '@mmft/native-kernels';
import type { EngineSpec } from './engines';
import { KERNEL_OVERRIDES } from './kernels/install';

function threadsOf(spec: EngineSpec): number {
  switch (spec.tfjsBackend) {
    case 'tensorflow':
      // libtensorflow's intra-op pool defaults to one thread per core.
      return os.availableParallelism();
    case 'wasm': {
      // The threaded wasm build cannot start its workers in Node (docs/facts.md §2): 1 unless tfjs says otherwise.
      if (!env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')) return 1;
      const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
      return wasm.getThreadsCount();
    }
    default:
      return 1; // the cpu backend is plain JavaScript on the main thread
  }
}

/** Capabilities of `spec` once selected, with the kernel overrides now installed. */
export function capabilitiesOf(spec: EngineSpec, kernelOverrides: readonly string[]): BackendCapabilities {
  return {
    engine: spec.tfjsBackend,
    gpu: spec.gpu,
    threads: threadsOf(spec),
    kernelOverrides: [...kernelOverrides],
    // tfjs has no float16/bfloat16 dtype on any engine: mmft keeps float32.
    float16: false,
  };
}

/** Whether the native addon does any of the selected engine's work, and which kernels. */
export interface NativeKernelUse {
  /** The addon loaded on this machine (built, and not MMFT_NATIVE=0). */
  readonly available: boolean;
  /** Some kernel of the selected engine runs on it. */
  readonly inUse: boolean;
  /** The installed kernels that call it. */
  readonly kernels: string[];
  readonly isa?: string;
  readonly threads?: number;
  /** Why it is not in use. */
  readonly reason?: string;
}

/**
 * What the addon does under `engine` with `kernelOverrides` installed: only mmft's wasm overrides
 * call it; tfjs-node runs libtensorflow's kernels and the cpu engine tfjs's JavaScript ones.
 *
 * @example
 * const { capabilities: c } = await selectBackend(config);
 * nativeKernelUse(c.engine, c.kernelOverrides); // under cpu: { available: true, inUse: false, kernels: [], reason: 'the cpu engine runs …' }
 */
export function nativeKernelUse(engine: string, kernelOverrides: readonly string[]): NativeKernelUse {
  const status = nativeKernelsStatus();
  if (!status.available) return { available: false, inUse: false, kernels: [], reason: status.reason };
  const { kernels: addon } = status;
  const has = (name: string): boolean => typeof (addon as unknown as Record<string, unknown>)[name] === 'function';
  const callers = new Set(
    (KERNEL_OVERRIDES[engine] ?? [])
      // The overrides list what they run on: only on the addon (needsNative), or on it where built (usesNative).
      .filter((o) => (o.needsNative?.every(has) ?? false) || (o.usesNative?.every(has) ?? false))
      .map((o) => o.kernelName),
  );
  const kernels = kernelOverrides.filter((name) => callers.has(name));
  const built = `built here (${addon.isa}, ${addon.threads} threads)`;
  if (kernels.length > 0) return { available: true, inUse: true, kernels, isa: addon.isa, threads: addon.threads };
  let reason: string;
  if (callers.size === 0) {
    const own =
      engine === 'cpu'
        ? "JavaScript kernels only (tfjs-backend-cpu's and mmft's fused ones)"
        : engine === 'tensorflow'
          ? "libtensorflow's kernels"
          : 'its own kernels';
    reason = `the ${engine} engine runs ${own}; the addon, ${built}, serves only the wasm engine`;
  } else if (kernelOverrides.length === 0) {
    reason = `kernel overrides are off (--no-overrides, or backend.overrides: false), so the ${engine} engine runs its stock kernels; the addon is ${built}`;
  } else {
    reason = `none of the ${engine} overrides installed (${kernelOverrides.join(', ')}) calls it; the addon is ${built}`;
  }
  return { available: true, inUse: false, kernels: [], isa: addon.isa, threads: addon.threads, reason };
}
