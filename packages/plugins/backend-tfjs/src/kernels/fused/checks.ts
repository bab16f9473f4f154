// Input checks shared by the fused kernels of every backend. Messages are built lazily and name
// the kernel and the offending shapes, as tfjs's util.assert calls do.
import { util, type TensorInfo } from '@tensorflow/tfjs-core';

const shapes = (infos: readonly TensorInfo[]): string => infos.map((i) => `[${i.shape.join(', ')}] ${i.dtype}`).join(', ');

/** All inputs float32 and of one shape. */
export function assertSameFloat32(kernelName: string, infos: readonly TensorInfo[]): void {
  util.assert(
    infos.every((i) => i.dtype === 'float32' && util.arraysEqual(i.shape, infos[0]!.shape)),
    () => `${kernelName} (mmft fused kernel) needs float32 inputs of one shape; got ${shapes(infos)}`,
  );
}

/** x [..., D] float32 and every vector in `vectors` float32 [D]; returns D. */
export function assertLastAxisVectors(kernelName: string, x: TensorInfo, vectors: readonly TensorInfo[]): number {
  const d = x.shape[x.shape.length - 1] ?? 0;
  util.assert(
    x.dtype === 'float32' && x.shape.length >= 1 && vectors.every((v) => v.dtype === 'float32' && v.shape.length === 1 && v.shape[0] === d),
    () => `${kernelName} (mmft fused kernel) needs float32 x [..., D] and [D] vectors; got ${shapes([x, ...vectors])}`,
  );
  return d;
}
