// Backward of the attention core (mmft fused kernel) for the wasm backend, in C++ only
// (@mmft/native-kernels' MmftAttentionGrad): dq, dk, dv with the probabilities recomputed from q,
// k and the mask instead of kept from the forward.
import { util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { AttentionGrad, type AttentionAttrs } from '@mmft/core/kernels';
import { nativeFused, runOnHeapNative } from './fused_utils';
import { operands, shapes, type Inputs } from './attention_utils';

function attentionGrad(args: { inputs: Inputs & { dy: TensorInfo }; backend: BackendWasm; attrs: AttentionAttrs }): TensorInfo[] {
  const { inputs, backend, attrs } = args;
  const o = operands(AttentionGrad, inputs, attrs);
  const { dy, q, k, v, mask } = inputs;
  util.assert(
    dy.dtype === 'float32' && util.arraysEqual(dy.shape, q.shape),
    () => `${AttentionGrad} (mmft fused kernel): dy ${shapes([dy])} must match q ${shapes([q])}`,
  );
  const native = nativeFused(AttentionGrad)!;
  // Empty queries or keys: the products write zeros (a sum over nothing), so outputs are always set.
  if (util.sizeFromShape(q.shape) + util.sizeFromShape(k.shape) === 0)
    return [q.shape, k.shape, v.shape].map((s) => backend.makeOutput([...s], 'float32'));
  return runOnHeapNative(backend, [dy, q, k, v, mask], [q.shape, k.shape, v.shape], (heap, [go, qo, ko, vo, mo], [dqo, dko, dvo]) =>
    native.MmftAttentionGrad(
      heap,
      { dContext: go ?? 0, q: qo ?? 0, k: ko ?? 0, v: vo ?? 0, mask: mo ?? 0, dq: dqo ?? 0, dk: dko ?? 0, dv: dvo ?? 0 },
      o,
    ),
  );
}

export const wasmAttentionGrad: KernelConfig = {
  kernelName: AttentionGrad,
  backendName: 'wasm',
  kernelFunc: attentionGrad as unknown as KernelFunc,
};
