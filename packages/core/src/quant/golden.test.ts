// Compares the quantiser byte for byte with __golden__/golden.json, written by __golden__/make-golden.py:
// an independent torch 1.13 replica of bitsandbytes' pure-torch default path (no bitsandbytes, no mmft code).
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { absmaxFloat32, dequantize4bit, quantize4bit, type QuantType4 } from './bnb4';
import { codeBounds, dynamicMap, FP4_CODE, NF4_CODE } from './codebooks';
import { quantStateJson } from './quant-state';
import { pythonFloatRepr } from './python-json';

interface GoldenCase {
  name: string;
  quant_type: QuantType4;
  blocksize: number;
  double_quant: boolean;
  shape: number[];
  input?: string;
  input_gen?: { count: number; scale: number };
  packed: string;
  absmax?: string;
  absmax_u8?: string;
  nested_absmax?: string;
  offset?: string;
  torch_offset?: string;
  absmax_f32?: string;
  quant_state_json: string;
  dequant?: string;
}

const golden = JSON.parse(readFileSync(join(__dirname, '__golden__', 'golden.json'), 'utf8')) as {
  nf4_code: string;
  fp4_code: string;
  fp4_order: number[];
  dynamic_map: string;
  float_reprs: { value: string; repr: string }[];
  cases: GoldenCase[];
};

const f32FromHex = (hex: string): Float32Array => new Float32Array(Uint8Array.from(Buffer.from(hex, 'hex')).buffer);
const hexOf = (a: ArrayBufferView): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

// The same integer hash and float64 arithmetic as make-golden.py's generated(), rounded to float32.
function generated(count: number, scale: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const u = (Number((BigInt(i) * 2654435761n) % 2n ** 32n) / 2 ** 32 - 0.5) * scale * (1 + (Math.floor(i / 37) % 5));
    out[i] = u;
  }
  return out;
}

describe('golden vectors from an independent torch replica of bitsandbytes', () => {
  it('codes and the dynamic map are bit-identical', () => {
    expect(hexOf(NF4_CODE)).toBe(golden.nf4_code);
    expect(hexOf(FP4_CODE)).toBe(golden.fp4_code);
    expect(hexOf(dynamicMap())).toBe(golden.dynamic_map);
    expect(Array.from(codeBounds(FP4_CODE).order)).toEqual(golden.fp4_order);
  });

  it('nested_offset prints as Python repr', () => {
    for (const { value, repr } of golden.float_reprs) expect(pythonFloatRepr(f32FromHex(value)[0])).toBe(repr);
  });

  it.each(golden.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const input = c.input !== undefined ? f32FromHex(c.input) : generated(c.input_gen!.count, c.input_gen!.scale);
    const q = quantize4bit(input, c.quant_type, { blockSize: c.blocksize, doubleQuant: c.double_quant, shape: c.shape });
    expect(hexOf(q.packed)).toBe(c.packed);
    if (c.double_quant) {
      expect(hexOf(new Float32Array([q.nested!.offset]))).toBe(c.offset);
      expect(hexOf(q.absmax)).toBe(c.absmax_u8);
      expect(hexOf(q.nested!.absmax)).toBe(c.nested_absmax);
      expect(hexOf(absmaxFloat32(q))).toBe(c.absmax_f32);
    } else {
      expect(hexOf(q.absmax)).toBe(c.absmax);
    }
    expect(quantStateJson(q)).toBe(c.quant_state_json);
    if (c.dequant !== undefined) expect(hexOf(dequantize4bit(q))).toBe(c.dequant);
  });

  it('the float64-rounded mean used as offset is torch float32 mean on every golden case', () => {
    // Documents the one chosen deviation (make-golden.py's docstring): on these vectors both agree.
    for (const c of golden.cases.filter((x) => x.double_quant)) expect(c.offset).toBe(c.torch_offset);
  });
});
