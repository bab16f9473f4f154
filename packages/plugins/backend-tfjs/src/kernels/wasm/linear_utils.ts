// Shape checks shared by the wasm Linear kernels (Linear.ts, LinearNoBias.ts, LinearGradInput.ts,
// LinearGradWeight.ts).
import { util, type TensorInfo } from '@tensorflow/tfjs-core';

const shapes = (infos: readonly TensorInfo[]): string => infos.map((i) => `[${i.shape.join(', ')}] ${i.dtype}`).join(', ');
export const last = (info: TensorInfo): number => info.shape[info.shape.length - 1] ?? 0;
/** Positions: the product of every axis but the last. */
export const rowsOf = (info: TensorInfo): number => util.sizeFromShape(info.shape.slice(0, -1));

export function check(kernelName: string, ok: boolean, infos: readonly TensorInfo[], expected: string): void {
  util.assert(ok, () => `${kernelName} (mmft fused kernel) needs float32 ${expected}; got ${shapes(infos)}`);
}

export const float32 = (infos: readonly TensorInfo[]) => infos.every((i) => i.dtype === 'float32' && i.shape.length >= 1);
