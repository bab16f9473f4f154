// The operands of the native softmax (Softmax.ts, SoftmaxGrad.ts, MaskedSoftmax.ts,
// MaskedSoftmaxGrad.ts): rows × cols of a plain softmax, or [B, H, T, S] with the mask's strides.
import { util, type TensorInfo } from '@tensorflow/tfjs-core';
import type { SoftmaxOperands } from '@mmft/native-kernels';

const shapeOf = (info: TensorInfo): string => `[${info.shape.join(', ')}] ${info.dtype}`;

/** Rows × cols of a plain softmax over the last axis. */
export function plainOperands(kernelName: string, logits: TensorInfo): SoftmaxOperands {
  util.assert(
    logits.dtype === 'float32' && logits.shape.length >= 1,
    () => `${kernelName} (mmft fused kernel) needs float32 logits; got ${shapeOf(logits)}`,
  );
  const cols = logits.shape[logits.shape.length - 1]!;
  return { batch: 1, heads: 1, rows: cols === 0 ? 0 : util.sizeFromShape(logits.shape) / cols, cols, minValue: 0 };
}

/** [B, H, T, S] logits and the mask's strides (0 where it broadcasts); mask offset filled in later. */
export function maskedOperands(kernelName: string, logits: TensorInfo, mask: TensorInfo, minValue: number): SoftmaxOperands {
  const [batch, heads, rows, cols] = logits.shape as [number, number, number, number];
  const [mb, mh, mt, ms] = mask.shape as [number, number, number, number];
  util.assert(
    logits.dtype === 'float32' &&
      mask.dtype === 'float32' &&
      logits.shape.length === 4 &&
      mask.shape.length === 4 &&
      ms === cols &&
      [mb, mh, mt].every((d, i) => d === 1 || d === logits.shape[i]),
    () =>
      `${kernelName} (mmft fused kernel) needs float32 logits [B, H, T, S] and a mask [B|1, H|1, T|1, S]; got ${shapeOf(logits)}, ${shapeOf(mask)}`,
  );
  const stride = (size: number, inner: number) => (size === 1 ? 0 : inner);
  return {
    batch,
    heads,
    rows,
    cols,
    mask: { offset: 0, batch: stride(mb, mh * mt * ms), head: stride(mh, mt * ms), row: stride(mt, ms) },
    minValue,
  };
}

export const withMaskAt = (o: SoftmaxOperands, offset: number): SoftmaxOperands => ({ ...o, mask: { ...o.mask!, offset } });
export const empty = (o: SoftmaxOperands): boolean => o.batch * o.heads * o.rows * o.cols === 0;
