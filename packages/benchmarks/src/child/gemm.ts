// Child entry measuring mmft's GEMM ceiling: square fp32 tf.matMul on the selected tfjs engine
// (wasm by default, with mmft's kernel overrides: the native GEMM where the addon is built),
// median of 10 after 3 warm-ups, as GFLOP/s.
// Usage: node dist/child/gemm.js [sizes...]  → `RESULT {"ceilings":[...]}`
import 'reflect-metadata';
import * as tf from '@tensorflow/tfjs-core';
import { nativeKernelsStatus, selectBackend, tfjsBackendConfigSchema } from '@mmft/backend-tfjs';
import type { GemmCeiling } from '../suite/result';
import { quantile } from '../suite/stats';

/**
 * GFLOP/s of an n×n by n×n matmul for each size.
 *
 * @example
 * await gemmCeilings([512, 1024]);
 */
export async function gemmCeilings(sizes: readonly number[]): Promise<GemmCeiling[]> {
  const selection = await selectBackend(tfjsBackendConfigSchema.parse({ prefer: ['wasm', 'cpu'] }));
  const out: GemmCeiling[] = [];
  const { engine, threads, kernelOverrides } = selection.capabilities;
  const native = nativeKernelsStatus();
  // The engine's own threads, or the native GEMM's when the BatchMatMul override sends products there.
  const label =
    native.available && kernelOverrides.includes('BatchMatMul')
      ? `tfjs ${engine}, matMul on the native GEMM (${native.kernels.isa}, threads ${native.kernels.threads})`
      : `tfjs ${engine} (threads ${threads})`;
  for (const n of sizes) {
    const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
    const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
    const seconds: number[] = [];
    for (let i = 0; i < 13; i++) {
      const start = performance.now();
      const c = tf.matMul(a, b);
      c.dataSync();
      c.dispose();
      if (i >= 3) seconds.push((performance.now() - start) / 1000);
    }
    tf.dispose([a, b]);
    out.push({ engine: label, size: n, gflops: (2 * n ** 3) / quantile(seconds, 0.5) / 1e9 });
  }
  return out;
}

if (require.main === module) {
  const sizes = process.argv.slice(2).map(Number);
  gemmCeilings(sizes.length > 0 ? sizes : [512, 1024]).then(
    (ceilings) => (process.stdout.write(`RESULT ${JSON.stringify({ ceilings })}\n`), process.exit(0)),
    (error: unknown) => (process.stdout.write(`ERROR ${JSON.stringify({ message: String(error) })}\n`), process.exit(1)),
  );
}
