// The N-API addon on a GPU machine without this repository's node_modules (scripts/gpu-check.sh
// runs it): the addon's two kernels against dist/reference.js (which loads nothing else), then the
// addon's benchmark. Prints one JSON object; exit 0 all passed, 1 a check failed, 2 no device.
//   node scripts/napi-check.js [path/to/mmft_cuda.node]
'use strict';
const path = require('node:path');

const addonPath = process.argv[2] ?? path.join(__dirname, '..', 'build', 'Release', 'mmft_cuda.node');
const addon = require(path.resolve(addonPath));
const { dequantize4bitReference, matmul4bitReference } = require('../dist/reference.js');

const info = addon.info();
if (info.error !== null) {
  console.log(JSON.stringify({ info, reason: info.error }));
  process.exit(2);
}

// The generator and code table of src/fixtures.test-helper.ts.
function rng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}
const NF4 = Float32Array.from([
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334, -0.09105003625154495,
  0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
  0.7229568362236023, 1.0,
]);
function weight(rows, cols, blockSize, seed) {
  const next = rng(seed);
  const n = rows * cols;
  return {
    packed: Uint8Array.from({ length: Math.ceil(n / 2) }, () => Math.floor(next() * 256)),
    absmax: Float32Array.from({ length: Math.ceil(n / blockSize) }, () => 0.01 + 3 * next()),
    code: NF4,
    rows,
    cols,
    blockSize,
  };
}

const checks = [];
for (const [rows, cols, blockSize] of [
  [1, 1, 64],
  [3, 11, 64],
  [129, 257, 128],
  [300, 1000, 4096],
]) {
  const w = weight(rows, cols, blockSize, rows + 3 * cols);
  const out = addon.MmftDequantize4bit(w.packed, w.absmax, w.code, rows * cols, blockSize);
  const want = dequantize4bitReference(w);
  const same = Buffer.from(out.buffer, out.byteOffset, out.byteLength).equals(Buffer.from(want.buffer));
  checks.push({ kernel: 'MmftDequantize4bit', shape: `[${rows}, ${cols}] bs=${blockSize}`, pass: same });
}
for (const [m, rows, cols, blockSize, transposeWeight, gemv] of [
  [1, 37, 96, 64, true, true],
  [1, 33, 33, 64, true, true],
  [65, 130, 33, 64, true, false],
  [65, 130, 33, 64, false, false],
  [128, 256, 512, 64, true, false],
]) {
  const w = weight(rows, cols, blockSize, 7 * rows + cols);
  const next = rng(m + 11);
  const x = Float32Array.from({ length: m * (transposeWeight ? cols : rows) }, () => 2 * next() - 1);
  const y = addon.MmftMatMul4bit(w.packed, w.absmax, w.code, x, m, rows, cols, blockSize, transposeWeight, gemv);
  const ref = matmul4bitReference(x, w, transposeWeight);
  let worst = 0;
  y.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - ref.y[i]) / (ref.bound[i] || 1e-30))));
  checks.push({
    kernel: 'MmftMatMul4bit',
    shape: `m=${m} [${rows}, ${cols}] t=${transposeWeight} gemv=${gemv}`,
    errorOfBound: worst,
    pass: worst <= 1,
  });
}
const failures = checks.filter((c) => !c.pass).length;
const benchmark = addon.benchmark(0, 0, 0, 0, 0, 64, 10);
console.log(JSON.stringify({ info, checks, failures, benchmark }, null, 1));
process.exit(failures ? 1 : 0);
