// The safetensors element types mmft reads and writes, their sizes, and how each is held in
// memory once decoded. Names, sizes and order follow the Rust `Dtype` enum of
// huggingface/safetensors (safetensors/src/tensor.rs); the writer sorts by that order.

/** Element types of a safetensors file that mmft supports. */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/**
 * Decoded tensor data: F64 → Float64Array; F32, F16, BF16 → Float32Array (halves upcast exactly);
 * I64, I32 → Int32Array (I64 range-checked); I16 → Int16Array; I8 → Int8Array; U8, BOOL → Uint8Array.
 */
export type TensorData = Float64Array | Float32Array | Int32Array | Int16Array | Int8Array | Uint8Array;

interface DtypeInfo {
  /** Bytes per element on disk. */
  readonly itemSize: number;
  /** Position in the Rust enum (ascending alignment); files list higher ones first. */
  readonly order: number;
}

/** Size and sort order of each supported dtype. */
export const DTYPES: Readonly<Record<SafetensorsDtype, DtypeInfo>> = Object.freeze({
  BOOL: { itemSize: 1, order: 0 },
  U8: { itemSize: 1, order: 1 },
  I8: { itemSize: 1, order: 2 },
  I16: { itemSize: 2, order: 5 },
  F16: { itemSize: 2, order: 7 },
  BF16: { itemSize: 2, order: 8 },
  I32: { itemSize: 4, order: 9 },
  F32: { itemSize: 4, order: 11 },
  F64: { itemSize: 8, order: 12 },
  I64: { itemSize: 8, order: 13 },
});

/** The supported dtype names, for error messages. */
export const SUPPORTED_DTYPES = Object.keys(DTYPES) as SafetensorsDtype[];

/** True for a dtype name mmft supports. */
export function isSafetensorsDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, value);
}

/** Number of elements of `shape`, or undefined when it is not a safe integer (a lying header). */
export function elementCount(shape: readonly number[]): number | undefined {
  let count = 1;
  for (const dim of shape) count *= dim;
  return Number.isSafeInteger(count) ? count : undefined;
}
