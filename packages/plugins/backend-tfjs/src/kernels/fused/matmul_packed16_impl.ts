// MmftMatMulPacked16's math in JavaScript (the cpu backend's kernel, cpu/MatMulPacked16.ts): one
// row of the 16-bit weight is decoded at a time into a float32 buffer, so no float32 copy of the
// whole weight exists at any point. Packing and rounding: @mmft/core/nn packed16.ts.
import { util, type TensorInfo } from '@tensorflow/tfjs-core';
import type { MatMulPacked16Attrs } from '@mmft/core/kernels';
import { unpackHalves16 } from '@mmft/core/nn';

/** The inner size k and output width n of the product, after checking the inputs. */
export function packedProductShape(
  kernelName: string,
  x: TensorInfo,
  weight: TensorInfo,
  attrs: MatMulPacked16Attrs,
): { k: number; n: number } {
  const { rows, cols, transposeWeight } = attrs;
  const k = transposeWeight ? cols : rows;
  const n = transposeWeight ? rows : cols;
  util.assert(
    x.dtype === 'float32' &&
      x.shape.length >= 1 &&
      x.shape[x.shape.length - 1] === k &&
      weight.dtype === 'int32' &&
      util.sizeFromShape(weight.shape) * 2 >= rows * cols,
    () =>
      `${kernelName} (mmft fused kernel) needs float32 x [..., ${k}] and an int32 weight holding ${rows}×${cols} 16-bit values; ` +
      `got x [${x.shape.join(', ')}] ${x.dtype}, weight [${weight.shape.join(', ')}] ${weight.dtype}`,
  );
  return { k, n };
}

/** y [m, n] = x [m, k] · Wᵀ (transposeWeight: W is [n, k]) or x · W (W is [k, n]), W decoded row by row. */
export function matMulPacked16(x: Float32Array, packed: Int32Array, m: number, attrs: MatMulPacked16Attrs, y: Float32Array): void {
  const { rows, cols, format, transposeWeight } = attrs;
  const halves = new Uint16Array(packed.buffer, packed.byteOffset, rows * cols);
  const row = new Float32Array(cols);
  if (transposeWeight) {
    // y[i, r] = Σ_c x[i, c]·W[r, c]: one decoded weight row serves every input row.
    for (let r = 0; r < rows; r++) {
      unpackHalves16(halves.subarray(r * cols, (r + 1) * cols), format, row);
      for (let i = 0; i < m; i++) {
        let sum = 0;
        const base = i * cols;
        for (let c = 0; c < cols; c++) sum += x[base + c]! * row[c]!;
        y[i * rows + r] = sum;
      }
    }
    return;
  }
  // y[i, c] = Σ_r x[i, r]·W[r, c]: accumulate one weight row at a time.
  y.fill(0);
  for (let r = 0; r < rows; r++) {
    unpackHalves16(halves.subarray(r * cols, (r + 1) * cols), format, row);
    for (let i = 0; i < m; i++) {
      const a = x[i * rows + r]!;
      if (a === 0) continue;
      const base = i * cols;
      for (let c = 0; c < cols; c++) y[base + c] += a * row[c]!;
    }
  }
}
