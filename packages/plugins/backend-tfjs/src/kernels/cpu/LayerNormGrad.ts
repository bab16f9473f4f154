// Backward of the LayerNorm fused kernel for the cpu backend: dx, dgamma and dbeta in one pass
// over the rows (row statistics recomputed, not saved). Math in ../fused/layer_norm_impl.ts.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { LayerNormGrad, type LayerNormAttrs } from '@mmft/core/kernels';
import { assertLastAxisVectors, assertSameFloat32 } from '../fused/checks';
import { layerNormBackward } from '../fused/layer_norm_impl';
import { runOnCpu } from './fused_utils';

function layerNormGrad(args: {
  inputs: { dy: TensorInfo; x: TensorInfo; gamma: TensorInfo };
  backend: MathBackendCPU;
  attrs: LayerNormAttrs;
}): TensorInfo[] {
  const {
    inputs: { dy, x, gamma },
    backend,
    attrs: { eps },
  } = args;
  assertSameFloat32(LayerNormGrad, [dy, x]);
  const d = assertLastAxisVectors(LayerNormGrad, x, [gamma]);
  return runOnCpu(backend, [dy, x, gamma], [x.shape, [d], [d]], ([g, xs, w], [dx, dw, db]) =>
    layerNormBackward(g!, xs!, w!, eps, d, dx!, dw!, db!),
  );
}

export const cpuLayerNormGrad: KernelConfig = {
  kernelName: LayerNormGrad,
  backendName: 'cpu',
  kernelFunc: layerNormGrad as unknown as KernelFunc,
};
