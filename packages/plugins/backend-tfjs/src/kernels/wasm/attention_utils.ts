// Sizes and mask strides of the native attention (Attention.ts, AttentionGrad.ts), after checking
// every input.
import { util, type TensorInfo } from '@tensorflow/tfjs-core';
import type { AttentionOperands } from '@mmft/native-kernels';
import type { AttentionAttrs } from '@mmft/core/kernels';

export type Inputs = { q: TensorInfo; k: TensorInfo; v: TensorInfo; mask: TensorInfo };

export const shapes = (infos: readonly TensorInfo[]): string => infos.map((i) => `[${i.shape.join(', ')}] ${i.dtype}`).join(', ');

/** Sizes and mask strides (0 where the mask broadcasts), after checking every input. */
export function operands(kernelName: string, { q, k, v, mask }: Inputs, { numHeads, scale, minValue }: AttentionAttrs): AttentionOperands {
  const [batch, queries, width] = q.shape as [number, number, number];
  const keys = k.shape[1]!;
  const [mb, mh, mt, ms] = mask.shape as [number, number, number, number];
  const fits =
    [q, k, v, mask].every((t) => t.dtype === 'float32') &&
    q.shape.length === 3 &&
    k.shape.length === 3 &&
    util.arraysEqual(k.shape, v.shape) &&
    k.shape[0] === batch &&
    k.shape[2] === width &&
    Number.isInteger(numHeads) &&
    numHeads > 0 &&
    width % numHeads === 0 &&
    Number.isFinite(scale) &&
    mask.shape.length === 4 &&
    ms === keys &&
    (mb === 1 || mb === batch) &&
    (mh === 1 || mh === numHeads) &&
    (mt === 1 || mt === queries);
  util.assert(
    fits,
    () =>
      `${kernelName} (mmft fused kernel) needs float32 q [B, T, D], k and v [B, S, D] with D divisible by ${numHeads} heads, ` +
      `and a mask [B|1, H|1, T|1, S]; got ${shapes([q, k, v, mask])}`,
  );
  const stride = (size: number, inner: number) => (size === 1 ? 0 : inner);
  return {
    batch,
    heads: numHeads,
    queries,
    keys,
    headDim: width / numHeads,
    mask: { batch: stride(mb, mh * mt * ms), head: stride(mh, mt * ms), row: stride(mt, ms) },
    scale,
    minValue,
  };
}
