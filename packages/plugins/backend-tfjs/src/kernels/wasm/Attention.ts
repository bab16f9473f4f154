// The multi-head attention core and its gradient (mmft fused kernels) for the wasm backend, in C++
// only (@mmft/native-kernels: one (batch, head) slice per task over all cores). Q, K and V stay in
// their [B, T, D] layout, so the head split and merge transposes go, and the softmax
// probabilities are recomputed in the backward instead of kept. Without the addon they are not
// installed and @mmft/core runs the composite ops.
import { util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { AttentionOperands } from '@mmft/native-kernels';
import { Attention, AttentionGrad, type AttentionAttrs } from '../kernel_names';
import { nativeFused, runOnHeapNative } from './fused_utils';

type Inputs = { q: TensorInfo; k: TensorInfo; v: TensorInfo; mask: TensorInfo };

const shapes = (infos: readonly TensorInfo[]): string => infos.map((i) => `[${i.shape.join(', ')}] ${i.dtype}`).join(', ');

/** Sizes and mask strides (0 where the mask broadcasts), after checking every input. */
function operands(kernelName: string, { q, k, v, mask }: Inputs, { numHeads, scale, minValue }: AttentionAttrs): AttentionOperands {
  const [batch, queries, width] = q.shape as [number, number, number];
  const keys = k.shape[1]!;
  const [mb, mh, mt, ms] = mask.shape as [number, number, number, number];
  const fits =
    [q, k, v, mask].every((t) => t.dtype === 'float32') &&
    q.shape.length === 3 && k.shape.length === 3 && util.arraysEqual(k.shape, v.shape) &&
    k.shape[0] === batch && k.shape[2] === width && Number.isInteger(numHeads) && numHeads > 0 && width % numHeads === 0 && Number.isFinite(scale) &&
    mask.shape.length === 4 && ms === keys && (mb === 1 || mb === batch) && (mh === 1 || mh === numHeads) && (mt === 1 || mt === queries);
  util.assert(fits, () =>
    `${kernelName} (mmft fused kernel) needs float32 q [B, T, D], k and v [B, S, D] with D divisible by ${numHeads} heads, ` +
    `and a mask [B|1, H|1, T|1, S]; got ${shapes([q, k, v, mask])}`);
  const stride = (size: number, inner: number) => (size === 1 ? 0 : inner);
  return {
    batch, heads: numHeads, queries, keys, headDim: width / numHeads,
    mask: { batch: stride(mb, mh * mt * ms), head: stride(mh, mt * ms), row: stride(mt, ms) },
    scale,
    minValue,
  };
}

function attention(args: { inputs: Inputs; backend: BackendWasm; attrs: AttentionAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const o = operands(Attention, inputs, attrs);
  const { q, k, v, mask } = inputs;
  if (util.sizeFromShape(q.shape) === 0) return backend.makeOutput([...q.shape], 'float32');
  const native = nativeFused('attention')!;
  return runOnHeapNative(backend, [q, k, v, mask], [q.shape], (heap, [qo, ko, vo, mo], [co]) =>
    native.attention(heap, { q: qo!, k: ko!, v: vo!, mask: mo ?? 0, context: co! }, o),
  )[0]!;
}

function attentionGrad(args: { inputs: Inputs & { dy: TensorInfo }; backend: BackendWasm; attrs: AttentionAttrs }): TensorInfo[] {
  const { inputs, backend, attrs } = args;
  const o = operands(AttentionGrad, inputs, attrs);
  const { dy, q, k, v, mask } = inputs;
  util.assert(dy.dtype === 'float32' && util.arraysEqual(dy.shape, q.shape), () => `${AttentionGrad} (mmft fused kernel): dy ${shapes([dy])} must match q ${shapes([q])}`);
  const native = nativeFused('attentionGrad')!;
  // Empty queries or keys: the products write zeros (a sum over nothing), so outputs are always set.
  if (util.sizeFromShape(q.shape) + util.sizeFromShape(k.shape) === 0) return [q.shape, k.shape, v.shape].map((s) => backend.makeOutput([...s], 'float32'));
  return runOnHeapNative(backend, [dy, q, k, v, mask], [q.shape, k.shape, v.shape], (heap, [go, qo, ko, vo, mo], [dqo, dko, dvo]) =>
    native.attentionGrad(heap, { dContext: go ?? 0, q: qo ?? 0, k: ko ?? 0, v: vo ?? 0, mask: mo ?? 0, dq: dqo ?? 0, dk: dko ?? 0, dv: dvo ?? 0 }, o),
  );
}

export const wasmAttention: KernelConfig = { kernelName: Attention, backendName: 'wasm', kernelFunc: attention as unknown as KernelFunc };
export const wasmAttentionGrad: KernelConfig = { kernelName: AttentionGrad, backendName: 'wasm', kernelFunc: attentionGrad as unknown as KernelFunc };
