// The CUDA kernels against the host reference (reference.ts) on the GPU. Where there is no build,
// no driver or no device, every test is skipped with the reason in its title; the reference itself
// is tested everywhere (reference.test.ts). scripts/gpu-check.sh runs this on a GPU machine.
import { describe, expect, it } from '@jest/globals';
import { isMmftError } from '@mmft/core';
import { loadCudaKernels, type CudaKernels } from './index';
import { dequantize4bitReference, matmul4bitReference } from './reference';
import { FP4, NF4, randomWeight, randomX } from './fixtures.test-helper';

const status = loadCudaKernels();
const kernels: CudaKernels | undefined = 'kernels' in status ? status.kernels : undefined;
const gpuIt = kernels ? it : it.skip;
const why =
  'unavailable' in status
    ? ` (skipped: no CUDA device: ${status.unavailable.replace(/^no CUDA device: /, '')})`
    : ` on ${kernels?.device.name}`;
const gpu = (): CudaKernels => kernels as CudaKernels;

describe('CUDA kernels', () => {
  // Runs everywhere, so the reason a machine skipped the GPU tests shows in the report.
  it(`says whether the kernels run here${why}`, () => {
    if (kernels) expect(kernels.device.computeCapability).toMatch(/^\d+\.\d+$/);
    else
      expect('unavailable' in status && status.unavailable).toMatch(
        /^(disabled by MMFT_CUDA=0|not built|the addon does not load|no CUDA device: .+)/,
      );
  });

  const dequantizeCases: [rows: number, cols: number, blockSize: number, code: 'nf4' | 'fp4'][] = [
    [1, 1, 64, 'nf4'],
    [1, 15, 64, 'nf4'],
    [1, 17, 32, 'fp4'],
    [3, 11, 64, 'nf4'],
    [64, 64, 64, 'fp4'],
    [129, 257, 128, 'nf4'],
    [300, 1000, 4096, 'nf4'],
  ];
  gpuIt.each(dequantizeCases)(
    `MmftDequantize4bit equals the reference bit for bit: [%i, %i] bs=%i %s${why}`,
    (rows, cols, blockSize, code) => {
      const w = randomWeight(rows, cols, blockSize, rows + 3 * cols, code === 'nf4' ? NF4 : FP4);
      const out = gpu().MmftDequantize4bit(w);
      expect(Buffer.from(out.buffer, out.byteOffset, out.byteLength).equals(Buffer.from(dequantize4bitReference(w).buffer))).toBe(true);
    },
  );

  // m = 1 with x·Wᵀ is the GEMV kernel (vectorised when cols % 32 == 0, else element by element).
  const matmulCases: [m: number, rows: number, cols: number, blockSize: number, transposeWeight: boolean, gemv: boolean][] = [
    [1, 37, 96, 64, true, true],
    [1, 128, 4096, 4096, true, true],
    [1, 33, 33, 64, true, true],
    [1, 7, 1, 32, true, true],
    [1, 96, 64, 64, true, false],
    [1, 40, 30, 64, false, true],
    [65, 130, 33, 64, true, false],
    [65, 130, 33, 64, false, false],
    [3, 1, 1, 32, true, false],
    [70, 17, 200, 128, false, false],
    [128, 256, 512, 64, true, false],
  ];
  gpuIt.each(matmulCases)(
    `MmftMatMul4bit is within the float32 bound of the reference: m=%i W[%i, %i] bs=%i transposed=%s gemv=%s${why}`,
    (m, rows, cols, blockSize, transposeWeight, gemv) => {
      const w = randomWeight(rows, cols, blockSize, 7 * rows + cols);
      const x = randomX(m * (transposeWeight ? cols : rows), m + 11);
      const y = gpu().MmftMatMul4bit(x, w, { transposeWeight, gemv });
      const reference = matmul4bitReference(x, w, transposeWeight);
      expect(y.length).toBe(reference.y.length);
      const outside = Array.from(y).findIndex((v, i) => !(Math.abs(v - reference.y[i]) <= reference.bound[i]));
      expect(
        outside === -1
          ? 'all within bound'
          : `y[${outside}] = ${y[outside]}, reference ${reference.y[outside]} ± ${reference.bound[outside]}`,
      ).toBe('all within bound');
    },
  );

  gpuIt(`refuses a ragged x before launching anything${why}`, () => {
    const w = randomWeight(4, 8, 32, 1);
    let caught: unknown;
    try {
      gpu().MmftMatMul4bit(new Float32Array(9), w, { transposeWeight: true });
    } catch (error) {
      caught = error;
    }
    expect(isMmftError(caught) && caught.code).toBe('E_SHAPE');
  });

  gpuIt(`benchmark reports positive rates on a small shape${why}`, () => {
    const b = gpu().benchmark({ rows: 1024, cols: 4096, m: 64, gemmRows: 256, gemmCols: 256, iterations: 3 });
    for (const key of ['copyGBs', 'dequantizeGBs', 'gemvGBs', 'gemmGflops', 'gemmF32Gflops'] as const) expect(b[key]).toBeGreaterThan(0);
    expect([b.rows, b.cols]).toEqual([1024, 4096]);
  });
});
