// Speed of the native addon's kernels called directly on a Float32Array (no tfjs around them):
// the GEMM shapes of the small-CLIP step (forward, dx, dW, LoRA), and the memory-bound row kernels
// at CLIP sizes. Each case: median of 9 runs of 100 calls after warm-up.
//   (cd packages/benchmarks && npx tsc -b) && node packages/benchmarks/dist/native-kernels-speed.js
// Run with MMFT_NATIVE_THREADS=1 for one core, MMFT_NATIVE_SPIN_US=0 for a pool that sleeps at once.
import { nativeKernelsStatus, type NativeKernelsStatus } from '@mmft/backend-tfjs';

type NativeKernels = Extract<NativeKernelsStatus, { available: true }>['kernels'];
type StridedOperand = Parameters<NativeKernels['MmftGemm']>[5];

const HEAP_FLOATS = 16 << 20;
const [A_AT, B_AT, C_AT] = [0, 4 << 20, 8 << 20];

/** Median ms per call of `run`. */
function time(run: () => void): number {
  for (let i = 0; i < 20; i++) run();
  const rounds: number[] = [];
  for (let r = 0; r < 9; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 100; i++) run();
    rounds.push(Number(process.hrtime.bigint() - t0) / 1e6 / 100);
  }
  return rounds.sort((p, q) => p - q)[4]!;
}

/** A row-major [rows, cols] operand at `offset`, or its transpose when `transposed`. */
const operand = (offset: number, rows: number, cols: number, transposed: boolean): StridedOperand =>
  transposed ? { offset, batch: 0, row: 1, col: rows } : { offset, batch: 0, row: cols, col: 1 };

function gemmCases(k: NativeKernels, heap: Float32Array): void {
  const cases: Array<[string, number, number, number, boolean, boolean]> = [
    ['x·Wᵀ [2080,128]·[128,128]ᵀ (forward)', 2080, 128, 128, false, true],
    ['dy·W [2080,128]·[128,128] (dx)', 2080, 128, 128, false, false],
    ['dyᵀ·x [2080,128]ᵀ·[2080,128] (dW)', 128, 128, 2080, true, false],
    ['fc1 [2080,128]·[512,128]ᵀ', 2080, 512, 128, false, true],
    ['dW fc1 [2080,512]ᵀ·[2080,128]', 512, 128, 2080, true, false],
    ['LoRA A [2080,128]·[8,128]ᵀ', 2080, 8, 128, false, true],
    ['LoRA B [2080,8]·[128,8]ᵀ', 2080, 128, 8, false, true],
    ['1024³', 1024, 1024, 1024, false, false],
  ];
  console.log('| GEMM | ms | GFLOP/s |\n|---|---:|---:|');
  for (const [label, m, n, kk, ta, tb] of cases) {
    // A is m×k (stored k×m when transposed), B is k×n (stored n×k when transposed).
    const a = ta ? operand(A_AT, kk, m, true) : operand(A_AT, m, kk, false);
    const b = tb ? operand(B_AT, n, kk, true) : operand(B_AT, kk, n, false);
    const ms = time(() => k.MmftGemm(heap, 1, m, n, kk, a, b, C_AT));
    console.log(`| ${label} | ${ms.toFixed(3)} | ${((2 * m * n * kk) / ms / 1e6).toFixed(1)} |`);
  }
}

function rowCases(k: NativeKernels, heap: Float32Array): void {
  const n = 32 * 65 * 128;
  const cases: Array<[string, () => void]> = [
    ['add, same shape [32,65,128]', () => k.MmftAddRepeated(heap, A_AT, B_AT, C_AT, n, n)],
    ['add, bias [2080,128] + [128]', () => k.MmftAddRepeated(heap, A_AT, B_AT, C_AT, n, 128)],
    ['sumRows [2080,128] → [128]', () => k.MmftSumRows(heap, A_AT, C_AT, 2080, 128)],
    ['quickGelu [32,65,512]', () => k.MmftQuickGelu(heap, A_AT, C_AT, 4 * n)],
    ['softmax [32,4,65,65]', () => k.MmftSoftmax(heap, A_AT, C_AT, { batch: 32, heads: 4, rows: 65, cols: 65, minValue: -3.4e38 })],
  ];
  console.log('\n| row kernel | ms |\n|---|---:|');
  for (const [label, run] of cases) console.log(`| ${label} | ${time(run).toFixed(3)} |`);
}

function main(): void {
  const status = nativeKernelsStatus();
  if (!status.available) {
    console.log(`native kernels not available: ${status.reason}`);
    return;
  }
  const k = status.kernels;
  const heap = new Float32Array(HEAP_FLOATS);
  for (let i = 0; i < heap.length; i++) heap[i] = Math.sin(i * 0.001);
  console.log(`native kernels: ${k.isa}, ${k.threads} threads, pool spin ${process.env.MMFT_NATIVE_SPIN_US ?? '200'} µs\n`);
  gemmCases(k, heap);
  rowCases(k, heap);
}

if (require.main === module) main();
