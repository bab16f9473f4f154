// One AdamW step of one parameter (mmft fused kernel) for the wasm backend: one kernel instead
// of ~13 elementwise ones. It returns new tensors rather than writing its inputs: a variable's
// data may be shared with other live tensors (tf.clone, Identity and assign share data ids), so
// writing in place could change them. Math in ../fused/adamw_impl.ts, or the same in C++
// (@mmft/native-kernels) when the native addon is built.
import { util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { AdamWUpdate, type AdamWUpdateAttrs } from '@mmft/core/kernels';
import { assertSameFloat32 } from '../fused/checks';
import { adamwUpdate } from '../fused/adamw_impl';
import { allNonEmpty, nativeFused, runOnHeap, runOnHeapNative } from './fused_utils';

type Inputs = { param: TensorInfo; grad: TensorInfo; expAvg: TensorInfo; expAvgSq: TensorInfo };

function adamw(args: { inputs: Inputs; backend: BackendWasm; attrs: AdamWUpdateAttrs }): TensorInfo[] {
  const {
    inputs: { param, grad, expAvg, expAvgSq },
    backend,
    attrs,
  } = args;
  assertSameFloat32(AdamWUpdate, [param, grad, expAvg, expAvgSq]);
  const shape = param.shape;
  const native = nativeFused(AdamWUpdate);
  if (native && allNonEmpty([param])) {
    const n = util.sizeFromShape(shape);
    return runOnHeapNative(backend, [param, grad, expAvg, expAvgSq], [shape, shape, shape], (heap, [p, g, m, v], [p2, m2, v2]) =>
      native.MmftAdamWUpdate(heap, { p: p!, g: g!, m: m!, v: v! }, { p: p2!, m: m2!, v: v2! }, n, attrs),
    );
  }
  return runOnHeap(backend, [param, grad, expAvg, expAvgSq], [shape, shape, shape], ([p, g, m, v], [p2, m2, v2]) =>
    adamwUpdate(p!, g!, m!, v!, p2!, m2!, v2!, attrs),
  );
}

export const wasmAdamWUpdate: KernelConfig = { kernelName: AdamWUpdate, backendName: 'wasm', kernelFunc: adamw as unknown as KernelFunc };
