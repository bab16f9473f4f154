// Gradients of the Softmax and MaskedSoftmax fused kernels (as tfjs-core/src/gradients/
// Softmax_grad.ts): one SoftmaxGrad kernel each. The mask is a constant in attention, but its
// gradient is given too (the logits' gradient summed over the axes the mask broadcasts along).
import { backend_util, engine, reshape, sum, type GradConfig, type NamedAttrMap, type Tensor } from '@tensorflow/tfjs-core';
import { MaskedSoftmax, MaskedSoftmaxGrad, Softmax, SoftmaxGrad } from '@mmft/core/kernels';

export const softmaxGradConfig: GradConfig = {
  kernelName: Softmax,
  outputsToSave: [true],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    const [y] = saved as [Tensor];
    return { logits: () => engine().runKernel(SoftmaxGrad, { dy: dy as Tensor, y }) as Tensor };
  },
};

export const maskedSoftmaxGradConfig: GradConfig = {
  kernelName: MaskedSoftmax,
  inputsToSave: ['logits', 'mask'],
  outputsToSave: [true],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [logits, mask, y] = saved as [Tensor, Tensor, Tensor];
    const dlogits = () => engine().runKernel(MaskedSoftmaxGrad, { dy: dy as Tensor, y, logits, mask }, attrs) as Tensor;
    return {
      logits: dlogits,
      mask: () => reshape(sum(dlogits(), backend_util.getReductionAxes(mask.shape, logits.shape), true), mask.shape),
    };
  },
};
