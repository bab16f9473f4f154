// Gradient of the LayerNorm fused kernel (as tfjs-core/src/gradients/*_grad.ts): one
// LayerNormGrad kernel yields dx, dgamma and dbeta. It runs when the gradient function is called,
// inside the engine's backward scope, so the three live only as long as the composite path's.
import { engine, type GradConfig, type NamedAttrMap, type Tensor } from '@tensorflow/tfjs-core';
import { LayerNorm, LayerNormGrad } from '@mmft/core/kernels';

export const layerNormGradConfig: GradConfig = {
  kernelName: LayerNorm,
  inputsToSave: ['x', 'gamma'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x, gamma] = saved as [Tensor, Tensor];
    const [dx, dgamma, dbeta] = engine().runKernel(LayerNormGrad, { dy: dy as Tensor, x, gamma }, attrs) as Tensor[];
    return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
  },
};
