// The ONNX protobuf messages the builder writes, from plain values: tensor bytes (raw_data,
// little-endian), attributes and value infos. Field meanings and DataType codes follow
// onnx/onnx onnx/onnx.proto3; onnx-proto's generated classes (onnx v1.10.2) encode them.
import { onnx } from 'onnx-proto';
import { MmftError } from '@mmft/core';

export type OnnxDType = 'float32' | 'int64' | 'int32' | 'uint8' | 'bool' | 'float16';
/** A fixed size, or a symbolic dim_param such as "batch_size". */
export type Dim = number | string;
/** A constant tensor; float16 and bool data are given as raw bytes (Uint8Array, two bytes per float16). */
export interface ConstTensor {
  dtype: OnnxDType;
  dims: number[];
  data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
}
/**
 * An attribute value. A number is an INT when it is an integer and the attribute is not one of
 * ONNX's float attributes (FLOAT_ATTRIBUTES below), else a FLOAT; `{ float }` forces FLOAT.
 * number[] is INTS; Float32Array and `{ floats }` are FLOATS; a string is STRING.
 */
export type AttrValue = number | string | number[] | Float32Array | { floats: number[] } | { tensor: ConstTensor } | { float: number };

/** onnx TensorProto.DataType codes (onnx/onnx onnx/onnx.proto3). */
export const ONNX_DATA_TYPE: Readonly<Record<OnnxDType, number>> = {
  float32: 1,
  uint8: 2,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
};

const BYTES_PER_ELEMENT: Readonly<Record<OnnxDType, number>> = { float32: 4, uint8: 1, int32: 4, int64: 8, bool: 1, float16: 2 };

// Float-typed attributes of the ai.onnx operators whose values may well be whole numbers
// (alpha=1 in Elu, beta=1 in Gemm, epsilon written as 1): sent as FLOAT whatever the value.
const FLOAT_ATTRIBUTES = new Set(['alpha', 'beta', 'gamma', 'epsilon', 'bias', 'lambd', 'value_float', 'scale', 'momentum']);

const elementCount = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/** Checks that a constant's data fits its dims and dtype; returns its raw little-endian bytes. */
export function tensorBytes(t: ConstTensor, what: string): Uint8Array {
  const count = elementCount(t.dims);
  const expected = count * BYTES_PER_ELEMENT[t.dtype];
  const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const fits =
    (t.dtype === 'float32' && t.data instanceof Float32Array) ||
    (t.dtype === 'int64' && t.data instanceof BigInt64Array) ||
    (t.dtype === 'int32' && t.data instanceof Int32Array) ||
    ((t.dtype === 'uint8' || t.dtype === 'bool' || t.dtype === 'float16') && t.data instanceof Uint8Array);
  if (!fits || bytes.byteLength !== expected) {
    throw new MmftError(
      'E_SHAPE',
      `${what}: ${t.data.constructor.name} of ${bytes.byteLength} bytes does not hold a ${t.dtype} tensor of dims [${t.dims.join(', ')}] (${expected} bytes)`,
      { hint: 'float32 → Float32Array, int64 → BigInt64Array, int32 → Int32Array, uint8/bool/float16 → Uint8Array (raw bytes)' },
    );
  }
  return bytes;
}

export function tensorProto(name: string, t: ConstTensor): onnx.ITensorProto {
  return { name, dims: t.dims, dataType: ONNX_DATA_TYPE[t.dtype], rawData: tensorBytes(t, name) };
}

export function attributeProto(name: string, v: AttrValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') {
    return Number.isInteger(v) && !FLOAT_ATTRIBUTES.has(name) ? { name, type: T.INT, i: v } : { name, type: T.FLOAT, f: v };
  }
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if (v instanceof Float32Array) return { name, type: T.FLOATS, floats: [...v] };
  if ('floats' in v) return { name, type: T.FLOATS, floats: v.floats };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  return { name, type: T.TENSOR, t: tensorProto('', v.tensor) };
}

/** A graph input or output: name, element type and dims (numbers or symbolic names). */
export function valueInfoProto(name: string, dtype: OnnxDType, dims: readonly Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ONNX_DATA_TYPE[dtype],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}
