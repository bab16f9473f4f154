// A product with a 16-bit frozen weight (mmft fused kernel MmftMatMulPacked16) for the wasm
// backend, on the native addon only: the weight's int32 tensor lies on the wasm heap like any
// other, and the C++ kernel decodes it a column block at a time into the float GEMM
// (packages/native-kernels/src/cc/packed16.cc). Without the addon it is not installed and
// @mmft/core's Linear decodes the weight into a float32 tensor per call.
import { util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { MatMulPacked16, type MatMulPacked16Attrs } from '@mmft/core/kernels';
import { packedProductShape } from '../fused/matmul_packed16_impl';
import { nativeFused, runOnHeapNative } from './fused_utils';

function matMul(args: { inputs: { x: TensorInfo; weight: TensorInfo }; backend: BackendWasm; attrs: MatMulPacked16Attrs }): TensorInfo {
  const {
    inputs: { x, weight },
    backend,
    attrs,
  } = args;
  const { k, n } = packedProductShape(MatMulPacked16, x, weight, attrs);
  const m = k === 0 ? util.sizeFromShape(x.shape.slice(0, -1)) : util.sizeFromShape(x.shape) / k;
  const outShape = [...x.shape.slice(0, -1), n];
  if (m * n === 0) return backend.makeOutput(outShape, 'float32');
  const native = nativeFused(MatMulPacked16)!;
  const operands = { m, rows: attrs.rows, cols: attrs.cols, format: attrs.format, transposeW: attrs.transposeWeight };
  // k = 0 (an empty weight) has no heap offsets to read: the kernel then writes zeros.
  return runOnHeapNative(backend, k === 0 ? [] : [x, weight], [outShape], (heap, [xo, wo], [yo]) =>
    native.MmftMatMulPacked16(heap, { x: xo ?? 0, weight: wo ?? 0, y: yo! }, operands),
  )[0]!;
}

export const wasmMatMulPacked16: KernelConfig = {
  kernelName: MatMulPacked16,
  backendName: 'wasm',
  kernelFunc: matMul as unknown as KernelFunc,
};
