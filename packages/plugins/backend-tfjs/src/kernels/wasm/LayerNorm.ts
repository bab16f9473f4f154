// LayerNorm over the last axis (mmft fused kernel) for the wasm backend: one pass per row
// instead of tf.moments + six elementwise kernels. Math in ../fused/layer_norm_impl.ts, or the
// same in C++ (@mmft/native-kernels, rows split over cores) when the native addon is built.
import { util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { LayerNorm, type LayerNormAttrs } from '@mmft/core/kernels';
import { assertLastAxisVectors } from '../fused/checks';
import { layerNormForward } from '../fused/layer_norm_impl';
import { allNonEmpty, nativeFused, runOnHeap, runOnHeapNative } from './fused_utils';

function layerNorm(args: {
  inputs: { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
  backend: BackendWasm;
  attrs: LayerNormAttrs;
}): TensorInfo {
  const {
    inputs: { x, gamma, beta },
    backend,
    attrs: { eps },
  } = args;
  const d = assertLastAxisVectors(LayerNorm, x, [gamma, beta]);
  const native = nativeFused(LayerNorm);
  if (native && allNonEmpty([x, gamma])) {
    const rows = util.sizeFromShape(x.shape) / d;
    return runOnHeapNative(backend, [x, gamma, beta], [x.shape], (heap, [xo, go, bo], [yo]) =>
      native.MmftLayerNorm(heap, xo!, go!, bo!, yo!, rows, d, eps),
    )[0]!;
  }
  return runOnHeap(backend, [x, gamma, beta], [x.shape], ([xs, g, b], [y]) => layerNormForward(xs!, g!, b!, y!, d, eps))[0]!;
}

export const wasmLayerNorm: KernelConfig = { kernelName: LayerNorm, backendName: 'wasm', kernelFunc: layerNorm as unknown as KernelFunc };
