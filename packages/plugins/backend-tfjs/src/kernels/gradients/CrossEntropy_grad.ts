// Gradient of the CrossEntropy fused kernel (as tfjs-core/src/gradients/*_grad.ts): one
// CrossEntropyGrad kernel from the saved logits, labels and lse (no softmax kept from the forward
// pass). tfjs hands zeros for an output nothing consumed, so both outputs' gradients go in: lse's
// (a z-loss may use it) costs one float per row.
import { engine, zeros, zerosLike, type GradConfig, type NamedAttrMap, type Tensor } from '@tensorflow/tfjs-core';
import { CrossEntropy, CrossEntropyGrad } from '@mmft/core/kernels';

export const crossEntropyGradConfig: GradConfig = {
  kernelName: CrossEntropy,
  inputsToSave: ['logits', 'labels'],
  outputsToSave: [false, true],
  gradFunc: (dys: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [dy, dlse] = dys as [Tensor, Tensor];
    const [logits, labels, lse] = saved as [Tensor, Tensor, Tensor];
    return {
      logits: () =>
        engine().runKernel(
          CrossEntropyGrad,
          { dy: dy ?? zerosLike(lse), dlse: dlse ?? zerosLike(lse), logits, labels, lse },
          attrs,
        ) as Tensor,
      // Integer labels take no gradient; float zeros keep tfjs's backprop whole should they be on the path.
      labels: () => zeros(labels.shape),
    };
  },
};
