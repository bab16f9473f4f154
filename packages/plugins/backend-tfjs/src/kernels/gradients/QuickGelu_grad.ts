// Gradient of the QuickGelu fused kernel (as tfjs-core/src/gradients/*_grad.ts): one QuickGeluGrad kernel.
import { engine, type GradConfig, type Tensor } from '@tensorflow/tfjs-core';
import { QuickGelu, QuickGeluGrad } from '@mmft/core/kernels';

export const quickGeluGradConfig: GradConfig = {
  kernelName: QuickGelu,
  inputsToSave: ['x'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    const [x] = saved as [Tensor];
    return { x: () => engine().runKernel(QuickGeluGrad, { dy: dy as Tensor, x }) as Tensor };
  },
};
