// F32/I32 tensor files (optimizer state, trainable weights, feature caches) through the
// safetensors reader and writer of this folder, which write atomically (temp + rename).
import { MmftError } from '../errors';
import { ioError } from './io-error';
import { readSafetensors } from './safetensors';
import { writeSafetensors, type WritableTensor } from './safetensors-write';

export interface StoredTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

/**
 * Write tensors (+ string metadata) to `file` atomically.
 *
 * @example
 * await writeTensorFile('out/optimizer.safetensors', new Map([['w.exp_avg', { shape: [2], data: new Float32Array(2) }]]));
 */
export async function writeTensorFile(
  file: string,
  tensors: ReadonlyMap<string, StoredTensor>,
  metadata: Record<string, string> = {},
): Promise<void> {
  const writable = new Map<string, WritableTensor>();
  for (const [name, t] of tensors)
    writable.set(name, { dtype: t.data instanceof Float32Array ? 'F32' : 'I32', shape: t.shape, data: t.data });
  await writeSafetensors(file, writable, metadata).catch((error: unknown) => Promise.reject(ioError('write', file, error)));
}

/** Read a file of F32 and I32 tensors; other dtypes are an E_SAFETENSORS error naming the tensor. */
export async function readTensorFile(file: string): Promise<{ tensors: Map<string, StoredTensor>; metadata: Record<string, string> }> {
  const { tensors, metadata } = await readSafetensors(file);
  const out = new Map<string, StoredTensor>();
  for (const [name, t] of tensors) {
    if (!(t.data instanceof Float32Array) && !(t.data instanceof Int32Array)) {
      throw new MmftError(
        'E_SAFETENSORS',
        `${file}: tensor "${name}" has dtype ${t.dtype}; mmft writes these files with F32 and I32 only`,
        { hint: 'delete the file to recompute it' },
      );
    }
    out.set(name, { shape: t.shape, data: t.data });
  }
  return { tensors: out, metadata };
}
