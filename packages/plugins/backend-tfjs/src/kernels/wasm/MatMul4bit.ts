// A product with a 4-bit frozen weight (mmft fused kernel MmftMatMul4bit) for the wasm backend, on
// the native addon only: the packed int32, absmax and code tensors lie on the wasm heap like any
// other, and the C++ kernel decodes a column block at a time into the float GEMM
// (packages/native-kernels/src/cc/matmul4bit.cc). Without the addon it is not installed and
// @mmft/core's Linear runs its composite of tfjs ops.
import { util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { MatMul4bit, type MatMul4bitAttrs } from '@mmft/core/kernels';
import { matMul4bitShape } from '../fused/matmul4bit_impl';
import { nativeFused, runOnHeapNative } from './fused_utils';

type Inputs = { x: TensorInfo; packed: TensorInfo; absmax: TensorInfo; code: TensorInfo };

function matMul(args: { inputs: Inputs; backend: BackendWasm; attrs: MatMul4bitAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { k, n } = matMul4bitShape(MatMul4bit, inputs, attrs);
  const m = k === 0 ? util.sizeFromShape(inputs.x.shape.slice(0, -1)) : util.sizeFromShape(inputs.x.shape) / k;
  const outShape = [...inputs.x.shape.slice(0, -1), n];
  if (m * n === 0) return backend.makeOutput(outShape, 'float32');
  const native = nativeFused(MatMul4bit)!;
  const { x, packed, absmax, code } = inputs;
  const operands = { m, rows: attrs.rows, cols: attrs.cols, blockSize: attrs.blockSize, transposeW: attrs.transposeWeight };
  // k = 0 (an empty weight) has no heap offsets to read: the kernel then writes zeros.
  return runOnHeapNative(backend, k === 0 ? [code] : [x, packed, absmax, code], [outShape], (heap, ins, [yo]) => {
    const [xo, po, ao, co] = k === 0 ? [0, 0, 0, ins[0]!] : ins;
    native.MmftMatMul4bit(heap, { x: xo!, packed: po!, absmax: ao!, code: co!, y: yo! }, operands);
  })[0]!;
}

export const wasmMatMul4bit: KernelConfig = {
  kernelName: MatMul4bit,
  backendName: 'wasm',
  kernelFunc: matMul as unknown as KernelFunc,
};
