// Turning the little-endian bytes of one safetensors tensor into a typed array and back, with
// the checks that keep a lying file from becoming garbage numbers (I64 outside int32, BOOL
// bytes other than 0/1) and a bad writer input from wrapping around silently.

import { endianness } from 'node:os';
import { MmftError } from '../errors';
import type { SafetensorsDtype, TensorData } from './dtypes';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './half';

/** What the writer accepts as data: numbers of any array type, or BigInt64Array for I64. */
export type WritableData = ArrayLike<number> | BigInt64Array;

// Typed-array views use the host's byte order; the format is little-endian.
const littleEndianHost = endianness() === 'LE';

function assertLittleEndian(): void {
  if (!littleEndianHost) throw new MmftError('E_UNSUPPORTED', 'safetensors I/O needs a little-endian host');
}

/** A view of `bytes` as `T`, copying only when the bytes are not aligned for it. */
function view<T>(bytes: Uint8Array, itemSize: number, make: (buffer: ArrayBufferLike, offset: number, length: number) => T): T {
  const aligned = bytes.byteOffset % itemSize === 0 ? bytes : bytes.slice();
  return make(aligned.buffer, aligned.byteOffset, aligned.byteLength / itemSize);
}

/**
 * Decodes one tensor's bytes (exactly elements·itemSize long; the result may share its buffer).
 * `where` names the file and tensor for error messages.
 */
export function decodeTensorData(dtype: SafetensorsDtype, bytes: Uint8Array, where: string): TensorData {
  assertLittleEndian();
  switch (dtype) {
    case 'F64':
      return view(bytes, 8, (b, o, n) => new Float64Array(b, o, n));
    case 'F32':
      return view(bytes, 4, (b, o, n) => new Float32Array(b, o, n));
    case 'F16':
      return f16ToF32(view(bytes, 2, (b, o, n) => new Uint16Array(b, o, n)));
    case 'BF16':
      return bf16ToF32(view(bytes, 2, (b, o, n) => new Uint16Array(b, o, n)));
    case 'I32':
      return view(bytes, 4, (b, o, n) => new Int32Array(b, o, n));
    case 'I16':
      return view(bytes, 2, (b, o, n) => new Int16Array(b, o, n));
    case 'I8':
      return view(bytes, 1, (b, o, n) => new Int8Array(b, o, n));
    case 'U8':
      return view(bytes, 1, (b, o, n) => new Uint8Array(b, o, n));
    case 'BOOL': {
      const out = view(bytes, 1, (b, o, n) => new Uint8Array(b, o, n));
      const bad = out.findIndex((v) => v > 1);
      if (bad >= 0) throw new MmftError('E_SAFETENSORS', `${where}: BOOL element ${bad} is ${out[bad]}; booleans must be 0 or 1`);
      return out;
    }
    case 'I64': {
      const wide = view(bytes, 8, (b, o, n) => new BigInt64Array(b, o, n));
      const out = new Int32Array(wide.length);
      for (let i = 0; i < wide.length; i++) {
        const v = wide[i];
        if (v > 2147483647n || v < -2147483648n) {
          throw new MmftError('E_SAFETENSORS', `${where}: I64 element ${i} is ${v}, outside the int32 range mmft holds integers in`, {
            hint: 'tfjs has no int64; store this tensor as I32 or F32',
          });
        }
        out[i] = Number(v);
      }
      return out;
    }
  }
}

const INT_RANGES: Partial<Record<SafetensorsDtype, readonly [number, number]>> = {
  I32: [-2147483648, 2147483647],
  I16: [-32768, 32767],
  I8: [-128, 127],
  U8: [0, 255],
  BOOL: [0, 1],
  I64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

function checkIntegers(data: ArrayLike<number>, dtype: SafetensorsDtype, where: string): void {
  const [min, max] = INT_RANGES[dtype]!;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new MmftError('E_SAFETENSORS', `${where}: element ${i} is ${v}, not an integer in [${min}, ${max}] as ${dtype} requires`);
    }
  }
}

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const asFloat32 = (data: ArrayLike<number>): Float32Array => (data instanceof Float32Array ? data : Float32Array.from(data));

/** Encodes writer data as little-endian bytes of `dtype` (a view, no copy, when types already match). */
export function encodeTensorData(dtype: SafetensorsDtype, data: WritableData, where: string): Uint8Array {
  assertLittleEndian();
  if (data instanceof BigInt64Array) {
    if (dtype !== 'I64') throw new MmftError('E_SAFETENSORS', `${where}: BigInt64Array data can only be written as I64, not ${dtype}`);
    return bytesOf(data);
  }
  switch (dtype) {
    case 'F64':
      return bytesOf(data instanceof Float64Array ? data : Float64Array.from(data));
    case 'F32':
      return bytesOf(asFloat32(data));
    case 'F16':
      return bytesOf(f32ToF16(asFloat32(data)));
    case 'BF16':
      return bytesOf(f32ToBf16(asFloat32(data)));
    default:
      break;
  }
  if (!(dtype === 'I32' && data instanceof Int32Array)) checkIntegers(data, dtype, where);
  switch (dtype) {
    case 'I32':
      return bytesOf(data instanceof Int32Array ? data : Int32Array.from(data));
    case 'I16':
      return bytesOf(Int16Array.from(data));
    case 'I8':
      return bytesOf(Int8Array.from(data));
    case 'I64':
      return bytesOf(BigInt64Array.from(Array.from(data), (v) => BigInt(v)));
    default:
      return bytesOf(Uint8Array.from(data)); // U8, BOOL
  }
}
