// The operands of the 4-bit kernels and their checks, shared by the CUDA wrapper (index.ts) and
// the host reference (reference.ts). The layout is bitsandbytes' (bitsandbytes/functional.py
// quantize_4bit / dequantize_4bit): the [rows, cols] weight flattened row-major, element i in byte
// ⌊i/2⌋ (high nibble for even i), times absmax[⌊i/blockSize⌋] (float32, de-nested when the
// checkpoint was double-quantised) times code[nibble] (the 16-entry quant_map).
import { MmftError } from '@mmft/core';
import { absmaxFloat32, BLOCK_SIZES_4BIT, type Quantized4bit } from '@mmft/core/quant';

/** A [rows, cols] 4-bit weight as the kernels read it. */
export interface Weight4bit {
  readonly packed: Uint8Array;
  readonly absmax: Float32Array;
  readonly code: Float32Array;
  readonly rows: number;
  readonly cols: number;
  readonly blockSize: number;
}

/**
 * The kernels' view of a quantised tensor from @mmft/core/quant (double quantisation de-nested to
 * float32 absmax, as bitsandbytes does before its kernels run): rows = product of all but the last
 * dimension of `q.shape`, cols = the last.
 *
 * @example
 * const w = weight4bitOf(quantizeNf4(values, { doubleQuant: true, shape: [out, inFeatures] }));
 */
export function weight4bitOf(q: Quantized4bit): Weight4bit {
  const shape = q.shape.length > 0 ? q.shape : [q.length];
  const cols = shape[shape.length - 1];
  const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  if (rows * cols !== q.length) {
    throw new MmftError('E_SHAPE', `weight4bitOf: shape [${shape.join(', ')}] holds ${rows * cols} elements, the tensor has ${q.length}`);
  }
  return { packed: q.packed, absmax: absmaxFloat32(q), code: q.code, rows, cols, blockSize: q.blockSize };
}

/** Throws an MmftError naming the operand that does not fit the weight's shape. */
export function checkWeight4bit(w: Weight4bit, where: string): void {
  if (!BLOCK_SIZES_4BIT.includes(w.blockSize)) {
    throw new MmftError('E_CONFIG', `${where}: blockSize ${w.blockSize} is not one of ${BLOCK_SIZES_4BIT.join(', ')}`, {
      hint: 'use the block size the weight was quantised with (bitsandbytes default 64)',
    });
  }
  if (!Number.isInteger(w.rows) || !Number.isInteger(w.cols) || w.rows < 1 || w.cols < 1) {
    throw new MmftError('E_SHAPE', `${where}: the weight shape [${w.rows}, ${w.cols}] must be two positive integers`);
  }
  const n = w.rows * w.cols;
  const need: [string, number, number][] = [
    ['packed', w.packed.length, Math.ceil(n / 2)],
    ['absmax', w.absmax.length, Math.ceil(n / w.blockSize)],
    ['code', w.code.length, 16],
  ];
  for (const [name, got, want] of need) {
    if (got !== want) {
      throw new MmftError(
        'E_SHAPE',
        `${where}: ${name} has ${got} entries, a [${w.rows}, ${w.cols}] weight at blockSize ${w.blockSize} needs ${want}`,
        {
          hint:
            name === 'absmax'
              ? 'pass the de-nested float32 absmax (absmaxFloat32 of @mmft/core/quant) for a double-quantised weight'
              : undefined,
        },
      );
    }
  }
}

/** Rows of x for y = x·Wᵀ (x [m, cols]) or x·W (x [m, rows]); throws when x does not fit. */
export function rowsOfX(x: Float32Array, w: Weight4bit, transposeWeight: boolean, where: string): number {
  const inner = transposeWeight ? w.cols : w.rows;
  if (x.length === 0 || x.length % inner !== 0) {
    throw new MmftError(
      'E_SHAPE',
      `${where}: x has ${x.length} values, not a multiple of ${inner} (x·W${transposeWeight ? 'ᵀ' : ''} with W [${w.rows}, ${w.cols}])`,
    );
  }
  return x.length / inner;
}
