// Gradients of the Linear fused kernels (as tfjs-core/src/gradients/BatchMatMul_grad.ts and
// Add_grad.ts together): dx = dy·W and dW = dyᵀ·x as one kernel each, db the sum of dy over every
// leading position. tfjs calls only the closures of inputs that need a gradient, so a frozen
// layer (PEFT) computes dx alone.
import { engine, reshape, sum, type GradConfig, type Tensor } from '@tensorflow/tfjs-core';
import { Linear, LinearGradInput, LinearGradWeight, LinearNoBias } from '@mmft/core/kernels';

function gradients(dy: Tensor, x: Tensor, weight: Tensor) {
  return {
    x: () => engine().runKernel(LinearGradInput, { dy, weight }) as Tensor,
    weight: () => engine().runKernel(LinearGradWeight, { dy, x }) as Tensor,
  };
}

export const linearGradConfig: GradConfig = {
  kernelName: Linear,
  inputsToSave: ['x', 'weight'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    const [x, weight] = saved as [Tensor, Tensor];
    const g = dy as Tensor;
    return { ...gradients(g, x, weight), bias: () => sum(reshape(g, [-1, weight.shape[0]!]), 0) };
  },
};

export const linearNoBiasGradConfig: GradConfig = {
  kernelName: LinearNoBias,
  inputsToSave: ['x', 'weight'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    const [x, weight] = saved as [Tensor, Tensor];
    return gradients(dy as Tensor, x, weight);
  },
};
