// A product with a 16-bit frozen weight (mmft fused kernel MmftMatMulPacked16) for the cpu
// backend, decoding the weight row by row inside the kernel. Math in ../fused/matmul_packed16_impl.ts;
// its gradient in ../gradients/MatMulPacked16_grad.ts.
import { util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { MatMulPacked16, type MatMulPacked16Attrs } from '@mmft/core/kernels';
import { matMulPacked16, packedProductShape } from '../fused/matmul_packed16_impl';

function matMul(args: { inputs: { x: TensorInfo; weight: TensorInfo }; backend: MathBackendCPU; attrs: MatMulPacked16Attrs }): TensorInfo {
  const {
    inputs: { x, weight },
    backend,
    attrs,
  } = args;
  const { k, n } = packedProductShape(MatMulPacked16, x, weight, attrs);
  const m = util.sizeFromShape(x.shape) / Math.max(k, 1);
  const y = new Float32Array(m * n);
  const xs = backend.data.get(x.dataId)!.values as Float32Array;
  const ws = backend.data.get(weight.dataId)!.values as Int32Array;
  matMulPacked16(xs, ws, m, attrs, y);
  return backend.makeTensorInfo([...x.shape.slice(0, -1), n], 'float32', y);
}

export const cpuMatMulPacked16: KernelConfig = {
  kernelName: MatMulPacked16,
  backendName: 'cpu',
  kernelFunc: matMul as unknown as KernelFunc,
};
