// A Linear layer (mmft fused kernel; its gradients in LinearGradInput.ts and LinearGradWeight.ts) for the wasm backend, on the native GEMM
// only: y = x·Wᵀ (+ b) for inputs of any rank in one kernel, where the composite path runs two
// Reshapes, BatchMatMul and Add forward and as many again backward, each an engine call with tape
// bookkeeping (~50 Linear layers in a small-CLIP step). The bias is added in place after the
// product (addRepeated). Without the addon they are not installed and @mmft/core's Linear runs
// the composite ops.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { Linear, LinearNoBias } from '@mmft/core/kernels';
import { nativeFused, runOnHeapNative } from './fused_utils';
import { check, float32, last, rowsOf } from './linear_utils';

/** y = x·Wᵀ (+ b); LinearNoBias.ts registers the same function without a bias. */
export function linear(args: { inputs: { x: TensorInfo; weight: TensorInfo; bias?: TensorInfo }; backend: BackendWasm }): TensorInfo {
  const {
    inputs: { x, weight, bias },
    backend,
  } = args;
  const name = bias ? Linear : LinearNoBias;
  const [out, inFeatures] = weight.shape as [number, number];
  const infos = bias ? [x, weight, bias] : [x, weight];
  check(
    name,
    float32(infos) && weight.shape.length === 2 && last(x) === inFeatures && (!bias || (bias.shape.length === 1 && bias.shape[0] === out)),
    infos,
    'x [..., in], weight [out, in] and bias [out]',
  );
  const outShape = [...x.shape.slice(0, -1), out];
  const rows = rowsOf(x);
  if (rows * out === 0) return backend.makeOutput(outShape, 'float32');
  const native = nativeFused('MmftAddRepeated')!;
  return runOnHeapNative(backend, infos, [outShape], (heap, [xo, wo, bo], [yo]) => {
    // y = x·Wᵀ: W [out, in] read transposed through its strides.
    native.MmftGemm(
      heap,
      1,
      rows,
      out,
      inFeatures,
      { offset: xo ?? 0, batch: 0, row: inFeatures, col: 1 },
      { offset: wo ?? 0, batch: 0, row: 1, col: inFeatures },
      yo!,
    );
    if (bias) native.MmftAddRepeated(heap, yo!, bo!, yo!, rows * out, out);
  })[0]!;
}

export const wasmLinear: KernelConfig = { kernelName: Linear, backendName: 'wasm', kernelFunc: linear as unknown as KernelFunc };
