// Gradient of MmftMatMulPacked16: dx is the same kernel with the weight read the other way
// (x·Wᵀ's dx is dy·W and back), still decoded from 16 bits. The weight is frozen: asking for its
// gradient is an error, and tfjs never asks, as the packed int32 tensor is no trainable variable.
import { engine, type GradConfig, type NamedAttrMap, type Tensor } from '@tensorflow/tfjs-core';
import { MatMulPacked16, type MatMulPacked16Attrs } from '@mmft/core/kernels';

export const matMulPacked16GradConfig: GradConfig = {
  kernelName: MatMulPacked16,
  inputsToSave: ['weight'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs?: NamedAttrMap) => {
    const [weight] = saved as [Tensor];
    const a = attrs as unknown as MatMulPacked16Attrs;
    return {
      x: () => engine().runKernel(MatMulPacked16, { x: dy as Tensor, weight }, { ...a, transposeWeight: !a.transposeWeight }) as Tensor,
      weight: () => {
        throw new Error(`${MatMulPacked16}: a weight held in 16 bits is frozen and has no gradient; restore it to float32 to train it`);
      },
    };
  },
};
