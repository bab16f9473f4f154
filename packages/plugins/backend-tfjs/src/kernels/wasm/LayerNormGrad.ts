// Backward of the LayerNorm fused kernel for the wasm backend: dx, dgamma and dbeta in one pass
// over the rows (row statistics recomputed, not saved). Math in ../fused/layer_norm_impl.ts, or
// the same in C++ (@mmft/native-kernels, rows split over cores) when the native addon is built.
import { util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { LayerNormGrad, type LayerNormAttrs } from '@mmft/core/kernels';
import { assertLastAxisVectors, assertSameFloat32 } from '../fused/checks';
import { layerNormBackward } from '../fused/layer_norm_impl';
import { allNonEmpty, nativeFused, runOnHeap, runOnHeapNative } from './fused_utils';

function layerNormGrad(args: {
  inputs: { dy: TensorInfo; x: TensorInfo; gamma: TensorInfo };
  backend: BackendWasm;
  attrs: LayerNormAttrs;
}): TensorInfo[] {
  const {
    inputs: { dy, x, gamma },
    backend,
    attrs: { eps },
  } = args;
  assertSameFloat32(LayerNormGrad, [dy, x]);
  const d = assertLastAxisVectors(LayerNormGrad, x, [gamma]);
  const native = nativeFused(LayerNormGrad);
  if (native && allNonEmpty([x, gamma])) {
    const rows = util.sizeFromShape(x.shape) / d;
    return runOnHeapNative(backend, [dy, x, gamma], [x.shape, [d], [d]], (heap, [gyo, xo, wo], [dxo, dwo, dbo]) =>
      native.MmftLayerNormGrad(heap, gyo!, xo!, wo!, dxo!, dwo!, dbo!, rows, d, eps),
    );
  }
  return runOnHeap(backend, [dy, x, gamma], [x.shape, [d], [d]], ([g, xs, w], [dx, dw, db]) =>
    layerNormBackward(g!, xs!, w!, eps, d, dx!, dw!, db!),
  );
}

export const wasmLayerNormGrad: KernelConfig = {
  kernelName: LayerNormGrad,
  backendName: 'wasm',
  kernelFunc: layerNormGrad as unknown as KernelFunc,
};
