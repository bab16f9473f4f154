// The host reference of the CUDA kernels, checked by hand and against an independent
// dequantise-then-multiply; runs everywhere (no GPU needed).
import { describe, expect, it } from '@jest/globals';
import { isMmftError } from '@mmft/core';
import { dequantize4bit, FP4_CODE, NF4_CODE, quantizeFp4, quantizeNf4 } from '@mmft/core/quant';
import { checkWeight4bit, loadCudaKernels, rowsOfX, weight4bitOf, type Weight4bit } from './index';
import { dequantize4bitReference, matmul4bitReference } from './reference';
import { FP4, NF4, randomWeight, randomX } from './fixtures.test-helper';

// Independent decoding: the bytes' hex string lists the nibbles in element order (high nibble
// first), which is bitsandbytes' packing; W is then a plain nested array, transposed explicitly.
function independentMatMul(x: Float32Array, w: Weight4bit, transposeWeight: boolean): number[] {
  const hex = Array.from(w.packed, (b) => b.toString(16).padStart(2, '0')).join('');
  const W: number[][] = [];
  for (let r = 0; r < w.rows; r++) {
    W.push([]);
    for (let c = 0; c < w.cols; c++) {
      const i = r * w.cols + c;
      W[r].push(Math.fround(w.code[parseInt(hex[i], 16)] * w.absmax[Math.floor(i / w.blockSize)]));
    }
  }
  const B = transposeWeight ? W[0].map((_, c) => W.map((row) => row[c])) : W; // B [inner, outer]
  const inner = B.length;
  const outer = B[0].length;
  const m = x.length / inner;
  const y: number[] = [];
  for (let i = 0; i < m; i++) for (let j = 0; j < outer; j++) y.push(B.reduce((s, row, c) => s + x[i * inner + c] * row[j], 0));
  return y;
}

describe('dequantize4bitReference', () => {
  it('decodes the high nibble first and scales by its block absmax (hand-checked)', () => {
    // elements: 0x0F → codes 0, 15; 0x87 → 8, 7; 0xA0 → 10 and a padding nibble (n = 5 is odd)
    const w: Weight4bit = {
      packed: Uint8Array.from([0x0f, 0x87, 0xa0]),
      absmax: Float32Array.of(2),
      code: NF4,
      rows: 1,
      cols: 5,
      blockSize: 32,
    };
    expect(Array.from(dequantize4bitReference(w))).toEqual([
      -2,
      2,
      2 * Math.fround(0.07958029955625534),
      0,
      2 * Math.fround(0.24611230194568634),
    ]);
  });

  it('switches absmax at the block boundary, across rows', () => {
    // [2, 20] weight, 40 elements, blockSize 32: elements 0…31 in block 0, 32…39 in block 1
    const w: Weight4bit = {
      packed: new Uint8Array(20).fill(0xff),
      absmax: Float32Array.of(1.5, 3),
      code: NF4,
      rows: 2,
      cols: 20,
      blockSize: 32,
    };
    const out = dequantize4bitReference(w);
    expect(out[31]).toBe(1.5); // row 1, col 11
    expect(out[32]).toBe(3); // row 1, col 12
    expect(Array.from(out).filter((v) => v === 3)).toHaveLength(8);
  });

  it('rounds code × absmax once to float32 (FP4 table)', () => {
    const w: Weight4bit = { packed: Uint8Array.of(0x1b), absmax: Float32Array.of(0.1), code: FP4, rows: 1, cols: 2, blockSize: 64 };
    const expected = [Math.fround(Math.fround(0.0625 / 12) * Math.fround(0.1)), Math.fround(Math.fround(-12 / 12) * Math.fround(0.1))];
    expect(Array.from(dequantize4bitReference(w))).toEqual(expected);
  });
});

describe('against @mmft/core/quant', () => {
  it('uses the same code tables', () => {
    expect(Array.from(NF4)).toEqual(Array.from(NF4_CODE));
    expect(Array.from(FP4)).toEqual(Array.from(FP4_CODE));
  });

  it.each([
    ['nf4', 64, true],
    ['nf4', 128, false],
    ['fp4', 32, true],
  ] as const)(
    'dequantises a core-quantised %s weight (bs %i, double quant %s) bit for bit as core does',
    (type, blockSize, doubleQuant) => {
      const values = randomX(37 * 101, 9).map((v, i) => (i % 97 === 0 ? 40 * v : v)); // outliers in some blocks
      const q = (type === 'nf4' ? quantizeNf4 : quantizeFp4)(values, { blockSize, doubleQuant, shape: [37, 101] });
      const w = weight4bitOf(q);
      expect([w.rows, w.cols]).toEqual([37, 101]);
      expect(Array.from(dequantize4bitReference(w))).toEqual(Array.from(dequantize4bit(q)));
    },
  );
});

describe('matmul4bitReference', () => {
  const shapes: [m: number, rows: number, cols: number, blockSize: number, transposeWeight: boolean][] = [
    [1, 7, 9, 32, true],
    [3, 5, 33, 64, false],
    [4, 16, 64, 32, true],
    [2, 33, 17, 128, false],
    [5, 3, 1, 32, true],
  ];
  it.each(shapes)('equals an independent dequantise-then-multiply: m=%i W[%i, %i] bs=%i transposed=%s', (m, rows, cols, blockSize, t) => {
    const w = randomWeight(rows, cols, blockSize, rows * 131 + cols);
    const x = randomX(m * (t ? cols : rows), m + 7);
    const { y } = matmul4bitReference(x, w, t);
    const expected = independentMatMul(x, w, t);
    expect(y.length).toBe(expected.length);
    y.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(expected[i]))));
  });

  it('bounds float32 sums in any order, and a one-nibble change in W breaks the bound', () => {
    const w = randomWeight(8, 200, 64, 5);
    const x = randomX(200, 6);
    const { y, bound } = matmul4bitReference(x, w, true);
    const weights = dequantize4bitReference(w);
    for (let r = 0; r < 8; r++) {
      const products = Array.from({ length: 200 }, (_, c) => Math.fround(weights[r * 200 + c] * x[c]));
      for (const order of [products, [...products].reverse()]) {
        const f32 = order.reduce((s, p) => Math.fround(s + p), 0);
        expect(Math.abs(f32 - y[r])).toBeLessThanOrEqual(bound[r]);
      }
    }
    // A kernel that read the neighbouring code for one weight would be caught.
    const wrong = { ...w, packed: w.packed.slice() };
    wrong.packed[0] ^= 0x10;
    const bad = matmul4bitReference(x, wrong, true).y;
    expect(Math.abs(bad[0] - y[0])).toBeGreaterThan(bound[0]);
  });
});

describe('operand checks', () => {
  const w = randomWeight(3, 5, 32, 1);
  it('names the operand whose length does not fit', () => {
    const error = (() => {
      try {
        checkWeight4bit({ ...w, packed: w.packed.subarray(0, 7) }, 'MmftMatMul4bit');
      } catch (e) {
        return e;
      }
    })();
    expect(isMmftError(error) && error.code).toBe('E_SHAPE');
    expect((error as Error).message).toBe('MmftMatMul4bit: packed has 7 entries, a [3, 5] weight at blockSize 32 needs 8');
  });
  it('lists the block sizes bitsandbytes allows', () => {
    expect(() => checkWeight4bit({ ...w, blockSize: 48 }, 'here')).toThrow(
      'here: blockSize 48 is not one of 32, 64, 128, 256, 512, 1024, 2048, 4096',
    );
  });
  it('reads the rows of x from its length and refuses a ragged x', () => {
    expect(rowsOfX(new Float32Array(10), w, true, 'k')).toBe(2);
    expect(rowsOfX(new Float32Array(6), w, false, 'k')).toBe(2);
    expect(() => rowsOfX(new Float32Array(7), w, true, 'k')).toThrow('k: x has 7 values, not a multiple of 5');
  });
});

describe('loadCudaKernels', () => {
  it('can be switched off, and says so', () => {
    const before = process.env.MMFT_CUDA;
    process.env.MMFT_CUDA = '0';
    try {
      expect(loadCudaKernels()).toEqual({ unavailable: 'disabled by MMFT_CUDA=0' });
    } finally {
      if (before === undefined) delete process.env.MMFT_CUDA;
      else process.env.MMFT_CUDA = before;
    }
  });
});
