import { describe, expect, it } from '@jest/globals';
import { isMmftError } from '../errors';
import { bf16ToF32, f16ToF32 } from '../io/half';
import { parseSafetensors } from '../io/safetensors';
import { serializeSafetensors, type WritableTensor } from '../io/safetensors-write';
import { dequantize4bit, quantizeFp4, quantizeNf4, type Quantized4bit } from './bnb4';
import { pythonFloatRepr, pythonJsonDumps, PyFloat } from './python-json';
import { BNB_4BIT_SUFFIXES, quantizedFromTensors, quantStateJson, quantStateTensors, type QuantStateInput } from './quant-state';

const weight = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i * 0.9) * (1 + (i % 3)));
const thrown = (fn: () => unknown): Error & { code?: string } => {
  try {
    fn();
  } catch (e) {
    if (isMmftError(e)) return e;
    throw e;
  }
  throw new Error('expected a throw');
};

// Writes the layout under "m.weight" to safetensors bytes and reads it back, as a checkpoint would.
function roundTrip(tensors: Map<string, WritableTensor>): (suffix: string) => QuantStateInput | undefined {
  const named = new Map([...tensors].map(([s, t]) => [`m.weight${s}`, t]));
  const file = parseSafetensors(serializeSafetensors(named));
  return (suffix) => file.tensors.get(`m.weight${suffix}`);
}

describe('quantStateTensors', () => {
  it('writes the keys, dtypes and shapes bitsandbytes writes, and its JSON byte for byte', () => {
    const q = quantizeNf4(weight, { blockSize: 32, doubleQuant: true, shape: [4, 16] });
    const t = quantStateTensors(q);
    expect([...t.keys()]).toEqual(['', '.absmax', '.quant_map', '.nested_absmax', '.nested_quant_map', '.quant_state.bitsandbytes__nf4']);
    expect([...t.values()].map((x) => [x.dtype, x.shape])).toEqual([
      ['U8', [32, 1]],
      ['U8', [2]],
      ['F32', [16]],
      ['F32', [1]],
      ['F32', [256]],
      ['U8', [t.get('.quant_state.bitsandbytes__nf4')!.data.length]],
    ]);
    const json = new TextDecoder().decode(t.get('.quant_state.bitsandbytes__nf4')!.data as Uint8Array);
    expect(json).toBe(
      `{"quant_type": "nf4", "blocksize": 32, "dtype": "float32", "shape": [4, 16], "nested_blocksize": 256, "nested_dtype": "float32", "nested_offset": ${pythonFloatRepr(q.nested!.offset)}}`,
    );
    for (const suffix of [...t.keys()].filter(Boolean)) expect(BNB_4BIT_SUFFIXES).toContain(suffix);
  });

  it('without double quantisation: float32 absmax and no nested keys', () => {
    const q = quantizeFp4(weight, { dtype: 'bfloat16', shape: [8, 8] });
    const t = quantStateTensors(q);
    expect([...t.keys()]).toEqual(['', '.absmax', '.quant_map', '.quant_state.bitsandbytes__fp4']);
    expect(t.get('.absmax')).toMatchObject({ dtype: 'F32', shape: [1] });
    expect(quantStateJson(q)).toBe('{"quant_type": "fp4", "blocksize": 64, "dtype": "bfloat16", "shape": [8, 8]}');
  });
});

describe('quantizedFromTensors', () => {
  it.each([
    ['nf4 + double quant', quantizeNf4(weight, { blockSize: 32, doubleQuant: true, shape: [4, 16] })],
    ['fp4', quantizeFp4(weight, { shape: [4, 16], dtype: 'float16' })],
    ['odd n', quantizeNf4(weight.subarray(0, 63), { blockSize: 32, doubleQuant: true, shape: [7, 9] })],
  ])('reads back what quantStateTensors wrote through safetensors (%s)', (_name, q) => {
    const back = quantizedFromTensors(roundTrip(quantStateTensors(q)), 'm.weight');
    expect(back).toEqual({ ...q, shape: [...q.shape] });
    expect(dequantize4bit(back)).toEqual(dequantize4bit(q));
  });

  function withPacked(q: Quantized4bit, packed: WritableTensor): Map<string, WritableTensor> {
    const t: Map<string, WritableTensor> = quantStateTensors(q);
    t.set('', packed);
    return t;
  }

  // Bytes that are NaN, ±inf and −0 when viewed as bf16 or f16 must come back unchanged.
  const awkward = Uint8Array.from([0x81, 0x7f, 0xc1, 0xff, 0x80, 0x7f, 0x00, 0x80, 0x01, 0x7c, 0x00, 0x7c, 0x00, 0xfe, 0x12, 0x34]);
  const awkwardQ = (): Quantized4bit => ({ ...quantizeNf4(new Float32Array(32).fill(0.5), { shape: [2, 16] }), packed: awkward.slice() });

  it.each([
    ['U8 [n/2]', (b: Uint8Array): WritableTensor => ({ dtype: 'U8', shape: [b.length], data: b })],
    ['U8 [1, n/2] (the old transposed view)', (b: Uint8Array): WritableTensor => ({ dtype: 'U8', shape: [1, b.length], data: b })],
    [
      'BF16 [n/4, 1] (LLaMA-Factory quant_storage)',
      (b: Uint8Array): WritableTensor => ({ dtype: 'BF16', shape: [b.length / 2, 1], data: bf16ToF32(new Uint16Array(b.buffer.slice(0))) }),
    ],
    [
      'F16 [n/4, 1]',
      (b: Uint8Array): WritableTensor => ({ dtype: 'F16', shape: [b.length / 2, 1], data: f16ToF32(new Uint16Array(b.buffer.slice(0))) }),
    ],
    [
      'F32 [n/8, 1]',
      (b: Uint8Array): WritableTensor => ({ dtype: 'F32', shape: [b.length / 4, 1], data: new Float32Array(b.buffer.slice(0)) }),
    ],
    ['I8 [n/2, 1]', (b: Uint8Array): WritableTensor => ({ dtype: 'I8', shape: [b.length, 1], data: new Int8Array(b.buffer.slice(0)) })],
  ])('reads the packed weight stored as %s, byte for byte', (_name, store) => {
    const q = awkwardQ();
    const back = quantizedFromTensors(roundTrip(withPacked(q, store(awkward))), 'm.weight');
    expect(Array.from(back.packed)).toEqual(Array.from(awkward));
  });

  it('refuses a packed weight of the wrong size, naming the tensor and the expected shape', () => {
    const q = quantizeNf4(weight, { shape: [4, 16] });
    const e = thrown(() =>
      quantizedFromTensors(roundTrip(withPacked(q, { dtype: 'U8', shape: [31, 1], data: new Uint8Array(31) })), 'm.weight'),
    );
    expect(e.code).toBe('E_CHECKPOINT');
    expect(e.message).toContain(
      '4-bit weight "m.weight": packed weight is U8 [31, 1] (31 bytes) but quant_state shape [4, 16] needs 32 bytes as [32, 1]',
    );
    const f = thrown(() =>
      quantizedFromTensors(roundTrip(withPacked(q, { dtype: 'U8', shape: [4, 8], data: new Uint8Array(32) })), 'm.weight'),
    );
    expect(f.code).toBe('E_CHECKPOINT');
  });

  it('names what is missing or wrong in the quant state', () => {
    const q = quantizeNf4(weight, { blockSize: 32, doubleQuant: true, shape: [4, 16] });
    const base = quantStateTensors(q);
    const without = (suffix: string) => {
      const t = new Map(base);
      t.delete(suffix);
      return t;
    };
    const withJson = (json: string) => {
      const t = new Map(base);
      const bytes = new TextEncoder().encode(json);
      t.set('.quant_state.bitsandbytes__nf4', { dtype: 'U8', shape: [bytes.length], data: bytes });
      return t;
    };
    const read = (t: Map<string, WritableTensor>) => thrown(() => quantizedFromTensors(roundTrip(t), 'm.weight'));
    expect(read(without('.quant_state.bitsandbytes__nf4')).message).toContain('has no "quant_state.bitsandbytes__nf4" (or __fp4) tensor');
    expect(read(without('.absmax')).message).toContain('tensor "m.weight.absmax" is missing');
    expect(read(without('.nested_quant_map')).message).toContain('tensor "m.weight.nested_quant_map" is missing');
    const both = new Map(base);
    both.set('.quant_state.bitsandbytes__fp4', base.get('.quant_state.bitsandbytes__nf4')!);
    expect(read(both).message).toContain('has both');
    const json = quantStateJson(q);
    expect(read(withJson(json.replace('"blocksize": 32', '"blocksize": 48'))).message).toContain(
      'blocksize 48 is not a bitsandbytes 4-bit block size',
    );
    expect(read(withJson(json.replace('"dtype": "float32", "shape"', '"dtype": "int8", "shape"'))).message).toContain(
      'dtype "int8" is not one of',
    );
    expect(read(withJson(json.replace('}', ', "colour": 1}'))).message).toContain('unknown keys colour');
    expect(read(withJson(json.replace('"quant_type": "nf4"', '"quant_type": "fp4"'))).message).toContain(
      'says quant_type "fp4", its key says nf4',
    );
    expect(read(withJson('{"quant_type": "nf4", ')).message).toContain('is not UTF-8 JSON');
    const nested = read(withJson(json.replace('"nested_blocksize": 256', '"nested_blocksize": 128')));
    expect(nested.code).toBe('E_UNSUPPORTED');
    expect(nested.message).toContain('nested_blocksize 128');
    const plain = quantStateTensors(quantizeNf4(weight, { shape: [4, 16] }));
    plain.set('.absmax', { dtype: 'F32', shape: [2], data: new Float32Array(2) });
    expect(read(plain).message).toContain('tensor "m.weight.absmax" is F32 [2], expected F32 [1]');
  });
});

describe('Python JSON', () => {
  it('prints floats as Python repr does', () => {
    const cases: [number, string][] = [
      [1, '1.0'],
      [-0, '-0.0'],
      [0.5, '0.5'],
      [1e16, '1e+16'],
      [1234567890123456, '1234567890123456.0'],
      [1e-5, '1e-05'],
      [0.0001, '0.0001'],
      [-2.5e-7, '-2.5e-07'],
      [1.5e300, '1.5e+300'],
      [5e-324, '5e-324'],
      [123.456, '123.456'],
      [0.1, '0.1'],
    ];
    for (const [x, repr] of cases) expect(pythonFloatRepr(x)).toBe(repr);
  });

  it('uses ", " and ": " separators, ints without a point and ASCII escapes', () => {
    expect(pythonJsonDumps({ a: [1, 2], b: 'x\u00e9', c: null, d: true, e: new PyFloat(2) })).toBe(
      '{"a": [1, 2], "b": "x\\u00e9", "c": null, "d": true, "e": 2.0}',
    );
    expect(() => pythonJsonDumps(1.5)).toThrow(/wrap floats in PyFloat/);
  });
});
