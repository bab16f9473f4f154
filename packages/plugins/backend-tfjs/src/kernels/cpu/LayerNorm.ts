// LayerNorm over the last axis (mmft fused kernel) for the cpu backend: one pass per row
// instead of tf.moments + six elementwise kernels. Math in ../fused/layer_norm_impl.ts.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { LayerNorm, type LayerNormAttrs } from '@mmft/core/kernels';
import { assertLastAxisVectors } from '../fused/checks';
import { layerNormForward } from '../fused/layer_norm_impl';
import { runOnCpu } from './fused_utils';

function layerNorm(args: {
  inputs: { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
  backend: MathBackendCPU;
  attrs: LayerNormAttrs;
}): TensorInfo {
  const {
    inputs: { x, gamma, beta },
    backend,
    attrs: { eps },
  } = args;
  const d = assertLastAxisVectors(LayerNorm, x, [gamma, beta]);
  return runOnCpu(backend, [x, gamma, beta], [x.shape], ([xs, g, b], [y]) => layerNormForward(xs!, g!, b!, y!, d, eps))[0]!;
}

export const cpuLayerNorm: KernelConfig = { kernelName: LayerNorm, backendName: 'cpu', kernelFunc: layerNorm as unknown as KernelFunc };
