// Writing safetensors files byte-compatible with the reference writer (huggingface/safetensors
// `serialize`): tensors sorted by dtype alignment then name, contiguous offsets, header padded
// with spaces to 8 bytes so every tensor starts aligned; files are written atomically.

import { MmftError } from '../errors';
import { writeFileAtomic } from './atomic-write';
import { encodeTensorData, type WritableData } from './codec';
import { elementCount, isSafetensorsDtype, SUPPORTED_DTYPES, type SafetensorsDtype } from './dtypes';
import { buildHeader } from './safetensors-header';

/** A tensor to write: F16/BF16 take float values and are rounded to nearest even. */
export interface WritableTensor {
  dtype: SafetensorsDtype;
  shape: readonly number[];
  data: WritableData;
}

/** Tensors to write, by name. */
export type WritableTensors = ReadonlyMap<string, WritableTensor> | Readonly<Record<string, WritableTensor>>;

function encodeAll(tensors: WritableTensors, metadata: Readonly<Record<string, string>> | undefined, target: string): Uint8Array[] {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const fail = (message: string): never => {
    throw new MmftError('E_SAFETENSORS', `cannot write ${target}: ${message}`);
  };
  for (const [key, value] of Object.entries(metadata ?? {})) if (typeof value !== 'string') fail(`metadata "${key}" is not a string`);
  const encoded = new Map<string, Uint8Array>();
  const described = entries.map(([name, t]) => {
    if (!name || name === '__metadata__') fail(`${JSON.stringify(name)} cannot be a tensor name`);
    if (!isSafetensorsDtype(t.dtype))
      fail(`tensor "${name}": unknown dtype ${JSON.stringify(t.dtype)}; supported: ${SUPPORTED_DTYPES.join(', ')}`);
    if (!Array.isArray(t.shape) || t.data == null) fail(`tensor "${name}": needs a shape array and data`);
    const valid = t.shape.every((d: number) => Number.isSafeInteger(d) && d >= 0);
    const count = valid ? elementCount(t.shape) : undefined;
    if (count === undefined || count !== t.data.length) {
      fail(`tensor "${name}": shape [${t.shape.join(', ')}] does not match ${t.data.length} data elements`);
    }
    const bytes = encodeTensorData(t.dtype, t.data, `cannot write ${target}: tensor "${name}"`);
    encoded.set(name, bytes);
    return { name, dtype: t.dtype, shape: t.shape, byteLength: bytes.byteLength };
  });
  const { header, order } = buildHeader(described, metadata);
  return [header, ...order.map((name) => encoded.get(name)!)];
}

/**
 * The bytes of a safetensors file holding `tensors` (for in-memory use and tests).
 *
 * @example
 * const bytes = serializeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } });
 */
export function serializeSafetensors(tensors: WritableTensors, metadata?: Readonly<Record<string, string>>): Uint8Array {
  const chunks = encodeAll(tensors, metadata, '<buffer>');
  const out = new Uint8Array(chunks.reduce((sum, c) => sum + c.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * Writes `tensors` to `path` atomically (temp file in the same folder, fsync, rename).
 *
 * @example
 * await writeSafetensors('out/adapter_model.safetensors', await tensorsFromModule(model), { format: 'pt' });
 */
export async function writeSafetensors(path: string, tensors: WritableTensors, metadata?: Readonly<Record<string, string>>): Promise<void> {
  await writeFileAtomic(path, encodeAll(tensors, metadata, path));
}
