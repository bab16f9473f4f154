// Gradient of the Gelu fused kernel (as tfjs-core/src/gradients/*_grad.ts): one GeluGrad kernel.
import { engine, type GradConfig, type Tensor } from '@tensorflow/tfjs-core';
import { Gelu, GeluGrad } from '@mmft/core/kernels';

export const geluGradConfig: GradConfig = {
  kernelName: Gelu,
  inputsToSave: ['x'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    const [x] = saved as [Tensor];
    return { x: () => engine().runKernel(GeluGrad, { dy: dy as Tensor, x }) as Tensor };
  },
};
