// Gradient of MmftMatMul4bit: dx is the same kernel with the weight read the other way (x·Wᵀ's dx
// is dy·W and back), still decoded from 4 bits, so W is never materialised; as bitsandbytes'
// MatMul4Bit.backward (bitsandbytes/autograd/_functions.py), which returns no gradient for the
// quantised weight. The packed tensors are no trainable variables, so tfjs never asks for theirs.
import { engine, type GradConfig, type NamedAttrMap, type Tensor } from '@tensorflow/tfjs-core';
import { MatMul4bit, type MatMul4bitAttrs } from '@mmft/core/kernels';

const frozen = () => {
  throw new Error(`${MatMul4bit}: a weight held in 4 bits is frozen and has no gradient; dequantise it to float32 to train it`);
};

export const matMul4bitGradConfig: GradConfig = {
  kernelName: MatMul4bit,
  inputsToSave: ['packed', 'absmax', 'code'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs?: NamedAttrMap) => {
    const [packed, absmax, code] = saved as [Tensor, Tensor, Tensor];
    const a = attrs as unknown as MatMul4bitAttrs;
    return {
      x: () =>
        engine().runKernel(MatMul4bit, { x: dy as Tensor, packed, absmax, code }, { ...a, transposeWeight: !a.transposeWeight }) as Tensor,
      packed: frozen,
      absmax: frozen,
      code: frozen,
    };
  },
};
