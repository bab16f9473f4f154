// The 4-bit weight decoded to float32 [rows, cols] (mmft fused kernel MmftDequantize4bit) for the
// cpu backend: what a save to float32 or a merge reads. Math in ../fused/matmul4bit_impl.ts.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { Dequantize4bit, type Dequantize4bitAttrs } from '@mmft/core/kernels';
import { assert4bitWeight, dequantize4bit } from '../fused/matmul4bit_impl';
import { weightOf, type WeightInputs } from './MatMul4bit';

function dequantize(args: { inputs: WeightInputs; backend: MathBackendCPU; attrs: Dequantize4bitAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  assert4bitWeight(Dequantize4bit, inputs.packed, inputs.absmax, inputs.code, attrs);
  const w = weightOf(backend, inputs);
  return backend.makeTensorInfo([attrs.rows, attrs.cols], 'float32', dequantize4bit(w.bytes, w.absmax, w.code, attrs));
}

export const cpuDequantize4bit: KernelConfig = {
  kernelName: Dequantize4bit,
  backendName: 'cpu',
  kernelFunc: dequantize as unknown as KernelFunc,
};
