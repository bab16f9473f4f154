// Micro-benchmark of mmft's wasm kernel overrides: the same matmuls, a small attention + MLP
// training step and the small CLIP's full training step with the stock tfjs-backend-wasm kernels,
// the XNNPACK-rewriting overrides, the native GEMM (@mmft/native-kernels, when built) and that plus
// mmft's fused kernels, side by side.
// Run: (cd packages/benchmarks && npx tsc -b) && node packages/benchmarks/dist/kernel-overrides.js
import 'reflect-metadata';
import * as tf from '@tensorflow/tfjs-core';
import {
  installKernelOverrides,
  KERNEL_OVERRIDES,
  nativeKernelsStatus,
  removeKernelOverrides,
  resetBackendSelection,
  selectBackend,
  tfjsBackendConfigSchema,
} from '@mmft/backend-tfjs';
import { registerGradients } from '@mmft/core/nn';
import { smallClipStep, SMALL_CLIP_FLOPS } from './kernel-clip-step';

interface Case {
  readonly label: string;
  readonly run: () => tf.Tensor | tf.Tensor[];
  readonly iterations: number;
  /** FLOPs of one run, to print GFLOP/s. */
  readonly flops?: number;
}

/** Median wall time of `iterations` runs after two warm-ups, reading results back each time. */
async function timeMs(run: Case['run'], iterations: number): Promise<number> {
  const once = async (): Promise<number> => {
    const start = performance.now();
    const out = run();
    const outputs = Array.isArray(out) ? out : [out];
    await Promise.all(outputs.map((t) => t.data()));
    const elapsed = performance.now() - start;
    tf.dispose(outputs);
    return elapsed;
  };
  await once();
  await once();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) times.push(await once());
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

const randn = (shape: number[], seed: number): tf.Tensor => tf.randomNormal(shape, 0, 1, 'float32', seed);

function matmulCases(): Case[] {
  const t = (s: number[], seed: number) => tf.keep(randn(s, seed));
  const big = [t([512, 1024], 1), t([512, 256], 2), t([512, 256], 3), t([1024, 256], 4)];
  const b8 = [t([8, 64, 64], 5), t([8, 64, 256], 6), t([8, 64, 64], 7), t([8, 256, 64], 8)];
  const heads = [t([8, 4, 64, 64], 9), t([8, 4, 64, 64], 10)];
  const x = t([8, 64, 256], 11);
  const w = t([256, 256], 12);
  const [a1, g1, h1, w1] = big as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
  const [p, v, q, kT] = b8 as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
  const [qh, kh] = heads as [tf.Tensor, tf.Tensor];
  const [cq, ck, cp, cx] = [t([32, 4, 65, 32], 15), t([32, 4, 65, 32], 16), t([32, 4, 65, 65], 17), t([2080, 128], 18)];
  const sq = [t([1024, 1024], 13), t([1024, 1024], 14)] as [tf.Tensor, tf.Tensor];
  return [
    { label: '[1024,1024] × [1024,1024] (GEMM ceiling)', run: () => tf.matMul(sq[0], sq[1]), iterations: 5, flops: 2 * 1024 ** 3 },
    {
      label: '[32,4,65,32] × [32,4,65,32]ᵀ (CLIP q·kᵀ)',
      run: () => tf.matMul(cq, ck, false, true),
      iterations: 10,
      flops: 2 * 128 * 65 * 65 * 32,
    },
    { label: '[32,4,65,65] × [32,4,65,32] (CLIP attn · V)', run: () => tf.matMul(cp, ck), iterations: 10, flops: 2 * 128 * 65 * 65 * 32 },
    {
      label: '[2080,128]ᵀ × [2080,128]  (CLIP dW)',
      run: () => tf.matMul(cx, cx, true, false),
      iterations: 10,
      flops: 2 * 2080 * 128 * 128,
    },
    { label: '[512,1024]ᵀ × [512,256]   (dW of a Linear)', run: () => tf.matMul(a1, g1, true, false), iterations: 5 },
    { label: '[512,256] × [1024,256]ᵀ   (Linear forward)', run: () => tf.matMul(h1, w1, false, true), iterations: 5 },
    { label: '[1024,512] × [512,256]    (untransposed: passes through)', run: () => tf.matMul(tf.transpose(a1), g1), iterations: 5 },
    { label: '[8,64,64] × [8,64,256]    (attn · V)', run: () => tf.matMul(p, v), iterations: 20 },
    { label: '[8,64,64]ᵀ × [8,64,256]   (dV)', run: () => tf.matMul(p, v, true, false), iterations: 20 },
    { label: '[8,64,64] × [8,256,64]ᵀ   (d attn)', run: () => tf.matMul(q, kT, false, true), iterations: 20 },
    { label: '[8,4,64,64] × [8,4,64,64]ᵀ (4-head q·kᵀ)', run: () => tf.matMul(qh, kh, false, true), iterations: 20 },
    { label: '[8,64,256] × [256,256]    (broadcast weight)', run: () => tf.matMul(x, w), iterations: 20 },
  ];
}

/** One training step of a pre-norm-free attention + MLP block with PyTorch-layout weights. */
function trainingStepCase(): Case {
  const [batch, tokens, width] = [8, 64, 256];
  const x = tf.keep(randn([batch, tokens, width], 20));
  const params = [
    [width, width],
    [width, width],
    [width, width],
    [width, width],
    [4 * width, width],
    [width, 4 * width],
  ].map((shape, i) => tf.keep(tf.mul(randn(shape, 30 + i), 1 / Math.sqrt(shape[1] as number))));
  // y = x Wᵀ, as a Linear with weight [out, in] computes it (packages/core/src/nn/linear.ts).
  const linear = (h: tf.Tensor, weight: tf.Tensor): tf.Tensor =>
    tf.reshape(tf.matMul(tf.reshape(h, [-1, h.shape[h.shape.length - 1] as number]), weight, false, true), [
      batch,
      tokens,
      weight.shape[0] as number,
    ]);
  const loss = (wq: tf.Tensor, wk: tf.Tensor, wv: tf.Tensor, wo: tf.Tensor, w1: tf.Tensor, w2: tf.Tensor): tf.Scalar => {
    const scores = tf.mul(tf.matMul(linear(x, wq), linear(x, wk), false, true), 1 / Math.sqrt(width));
    const attended = tf.add(x, linear(tf.matMul(tf.softmax(scores), linear(x, wv)), wo));
    const out = tf.add(attended, linear(tf.relu(linear(attended, w1)), w2));
    return tf.mean(tf.square(out));
  };
  const step = tf.grads(loss as (...args: tf.Tensor[]) => tf.Tensor);
  return { label: 'training step: attention + MLP, 8×64 tokens, width 256', run: () => step(params), iterations: 5 };
}

function clipStepCase(): Case {
  const { step } = smallClipStep();
  return { label: 'training step: small CLIP, batch 32 (AdamW)', run: step, iterations: 5, flops: SMALL_CLIP_FLOPS.step };
}

// "fused": the best GEMM path plus mmft's fused kernels (LayerNorm, AdamW); the others without them.
type Mode = 'stock' | 'xnnpack' | 'native' | 'fused';
// "stock" keeps the kernels wasm lacks (UnsortedSegmentSum): without them the CLIP step cannot run.
const fillers = KERNEL_OVERRIDES.wasm!.filter((o) => o.fillsMissing && !o.fused);
function use(mode: Mode): void {
  removeKernelOverrides();
  for (const o of fillers) if (tf.getKernel(o.kernelName, 'wasm')) tf.unregisterKernel(o.kernelName, 'wasm');
  if (mode === 'stock') for (const o of fillers) tf.registerKernel(o.make(undefined, {}));
  else if (mode === 'fused') installKernelOverrides('wasm');
  else installKernelOverrides('wasm', { native: mode === 'native', fused: false });
}

async function main(): Promise<void> {
  resetBackendSelection();
  const selection = await selectBackend(tfjsBackendConfigSchema.parse({ prefer: ['wasm'] }));
  registerGradients();
  const native = nativeKernelsStatus();
  console.log(
    `engine: ${selection.capabilities.engine} (threads ${selection.capabilities.threads}), tfjs-core ${tf.version_core}, node ${process.version}`,
  );
  console.log(`native kernels: ${native.available ? `${native.kernels.isa}, ${native.kernels.threads} threads` : native.reason}`);
  const modes: Mode[] = native.available ? ['stock', 'xnnpack', 'native', 'fused'] : ['stock', 'xnnpack', 'fused'];
  const skipStock = process.argv.includes('--no-stock-step'); // the stock CLIP step takes ~2 minutes
  const cases = [...matmulCases(), trainingStepCase(), clipStepCase()];
  const rows: string[][] = [['case', ...modes.map((m) => `${m} ms`), 'speed-up', 'best GFLOP/s']];
  for (const c of cases) {
    const times: number[] = [];
    for (const mode of modes) {
      use(mode);
      times.push(mode === 'stock' && skipStock && c.label.includes('CLIP,') ? Number.NaN : await timeMs(c.run, c.iterations));
    }
    const best = Math.min(...times.filter((x) => !Number.isNaN(x)));
    const gflops = c.flops ? (c.flops / best / 1e6).toFixed(1) : '';
    rows.push([c.label, ...times.map((x) => (Number.isNaN(x) ? 'skipped' : x.toFixed(2))), `${(times[0]! / best).toFixed(1)}×`, gflops]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const [i, row] of rows.entries()) {
    console.log(row.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]!) : cell.padStart(widths[j]!))).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
