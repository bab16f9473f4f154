// What the selected engine can do, as the trainer and kernels read it (BackendCapabilities in
// packages/core/src/contracts/backend.ts). Thread counts are what the engine really uses.
import * as os from 'node:os';
import { env } from '@tensorflow/tfjs-core';
import type { BackendCapabilities } from '@mmft/core';
import type { EngineSpec } from './engines';

function threadsOf(spec: EngineSpec): number {
  switch (spec.tfjsBackend) {
    case 'tensorflow':
      // libtensorflow's intra-op pool defaults to one thread per core.
      return os.availableParallelism();
    case 'wasm': {
      // The threaded wasm build cannot start its workers in Node (FACTS.md): 1 unless tfjs says otherwise.
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
