// The multi-head attention core (mmft fused kernel; its gradient in AttentionGrad.ts) for the wasm backend, in C++
// only (@mmft/native-kernels: one (batch, head) slice per task over all cores). Q, K and V stay in
// their [B, T, D] layout, so the head split and merge transposes go, and the softmax
// probabilities are recomputed in the backward instead of kept. Without the addon they are not
// installed and @mmft/core runs the composite ops.
import { util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { Attention, type AttentionAttrs } from '@mmft/core/kernels';
import { nativeFused, runOnHeapNative } from './fused_utils';
import { operands, type Inputs } from './attention_utils';

function attention(args: { inputs: Inputs; backend: BackendWasm; attrs: AttentionAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const o = operands(Attention, inputs, attrs);
  const { q, k, v, mask } = inputs;
  if (util.sizeFromShape(q.shape) === 0) return backend.makeOutput([...q.shape], 'float32');
  const native = nativeFused(Attention)!;
  return runOnHeapNative(backend, [q, k, v, mask], [q.shape], (heap, [qo, ko, vo, mo], [co]) =>
    native.MmftAttention(heap, { q: qo!, k: ko!, v: vo!, mask: mo ?? 0, context: co! }, o),
  )[0]!;
}

export const wasmAttention: KernelConfig = { kernelName: Attention, backendName: 'wasm', kernelFunc: attention as unknown as KernelFunc };
