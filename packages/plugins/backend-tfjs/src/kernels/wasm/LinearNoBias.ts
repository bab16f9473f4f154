// A Linear layer without a bias (mmft fused kernel) for the wasm backend: Linear.ts's kernel with
// inputs x and weight only.
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { LinearNoBias } from '@mmft/core/kernels';
import { linear } from './Linear';

export const wasmLinearNoBias: KernelConfig = {
  kernelName: LinearNoBias,
  backendName: 'wasm',
  kernelFunc: linear as unknown as KernelFunc,
};
