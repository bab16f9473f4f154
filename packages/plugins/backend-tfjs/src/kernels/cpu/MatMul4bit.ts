// A product with a 4-bit frozen weight (mmft fused kernel MmftMatMul4bit) for the cpu backend,
// decoding the weight row by row inside the kernel. Math in ../fused/matmul4bit_impl.ts; its gradient
// in ../gradients/MatMul4bit_grad.ts.
import { util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { MatMul4bit, type MatMul4bitAttrs } from '@mmft/core/kernels';
import { matMul4bit, matMul4bitShape, packedBytes } from '../fused/matmul4bit_impl';

/** The packed weight's three inputs. */
export type WeightInputs = { packed: TensorInfo; absmax: TensorInfo; code: TensorInfo };

/** The packed bytes, absmax and code of a 4-bit weight, as views of the backend's arrays. */
export function weightOf(backend: MathBackendCPU, { packed, absmax, code }: WeightInputs) {
  const values = (info: TensorInfo) => backend.data.get(info.dataId)!.values;
  return {
    bytes: packedBytes(values(packed) as Int32Array),
    absmax: values(absmax) as Float32Array,
    code: values(code) as Float32Array,
  };
}

function matMul(args: { inputs: WeightInputs & { x: TensorInfo }; backend: MathBackendCPU; attrs: MatMul4bitAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { k, n } = matMul4bitShape(MatMul4bit, inputs, attrs);
  const m = util.sizeFromShape(inputs.x.shape) / Math.max(k, 1);
  const y = new Float32Array(m * n);
  matMul4bit(backend.data.get(inputs.x.dataId)!.values as Float32Array, weightOf(backend, inputs), m, attrs, y);
  return backend.makeTensorInfo([...inputs.x.shape.slice(0, -1), n], 'float32', y);
}

export const cpuMatMul4bit: KernelConfig = {
  kernelName: MatMul4bit,
  backendName: 'cpu',
  kernelFunc: matMul as unknown as KernelFunc,
};
