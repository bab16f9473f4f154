// Per-kernel time of one step with tf.profile (tfjs-core src/engine.ts profile): every kernel the
// step launches, summed by kernel name, largest first, plus the step's peak tensor bytes. On the
// wasm backend kernel times are wall times of synchronous calls, so they add up to the step.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelRow } from '../suite/result';

/** Aggregated profile of `run` (called once). */
export interface StepProfile {
  readonly kernels: KernelRow[];
  readonly peakBytes: number;
  readonly totalMs: number;
}

/**
 * Profile one call of `run`.
 *
 * @example
 * const { kernels } = await profileStep(() => trainStep(parts, batch, lr));
 */
export async function profileStep(run: () => void): Promise<StepProfile> {
  const info = await tf.profile(() => {
    run();
    return [];
  });
  const byName = new Map<string, { calls: number; ms: number }>();
  for (const kernel of info.kernels) {
    const ms = typeof kernel.kernelTimeMs === 'number' ? kernel.kernelTimeMs : 0;
    const row = byName.get(kernel.name) ?? { calls: 0, ms: 0 };
    byName.set(kernel.name, { calls: row.calls + 1, ms: row.ms + ms });
  }
  const totalMs = [...byName.values()].reduce((sum, r) => sum + r.ms, 0);
  const kernels = [...byName.entries()]
    .map(([name, r]) => ({ name, calls: r.calls, ms: r.ms, percent: totalMs > 0 ? (100 * r.ms) / totalMs : 0 }))
    .sort((a, b) => b.ms - a.ms);
  return { kernels, peakBytes: info.peakBytes, totalMs };
}
