// The end-of-run summary people look at first: evaluation scores before training and after it,
// side by side, plus trainable parameters, throughput and peak memory. Printed through the run's
// reporter and returned so report.html and RunSummary carry the same numbers.
import * as tf from '@tensorflow/tfjs-core';
import type { ParamEntry } from '../optim/adamw';

export interface RunFigures {
  readonly trainableParams: number;
  readonly totalParams: number;
  readonly steps: number;
  readonly samples: number;
  readonly seconds: number;
  /** Peak resident set size of the process, bytes (getrusage maxrss). */
  readonly peakRssBytes: number;
  /** Peak bytes held by tfjs tensors, sampled after every step. */
  readonly peakTensorBytes: number;
  /**
   * Peak bytes held by tfjs tensors inside one training step (forward, backward and update:
   * activations included), measured with tf.profile on that step; absent when no step was measured.
   */
  readonly stepPeak?: { readonly bytes: number; readonly step: number };
  /** Size of the saved PEFT adapter file (adapter_model.safetensors), when the run trains one. */
  readonly adapterBytes?: number;
  /** Per metric id, the settings its scores depend on (`Metric.settings`), printed under the table. */
  readonly metricSettings?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** Tracks peak tensor memory; `sample()` after each step is cheap (tfjs keeps the count). */
export class PeakMemory {
  private peak = 0;
  sample(): void {
    this.peak = Math.max(this.peak, tf.memory().numBytes);
  }
  get bytes(): number {
    return this.peak;
  }
}

/** Parameters the optimizer updates vs all parameters of the model, counted by elements. */
export function countParams(
  trainable: readonly ParamEntry[],
  all: ReadonlyArray<readonly [string, tf.Variable]>,
): { trainable: number; total: number } {
  const size = (v: tf.Variable) => v.shape.reduce((a, b) => a * b, 1);
  return { trainable: trainable.reduce((n, p) => n + size(p.variable), 0), total: all.reduce((n, [, v]) => n + size(v), 0) };
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** Lines of the before/after table and the run figures (plain text, aligned). */
export function formatRunSummary(
  before: Readonly<Record<string, number>> | undefined,
  after: Readonly<Record<string, number>>,
  figures: RunFigures,
): string[] {
  const keys = Object.keys(after).filter((k) => k !== 'eval_loss' && !k.endsWith('_mAP'));
  const width = Math.max(6, ...keys.map((k) => k.length));
  const cell = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(2)).padStart(9);
  const lines = keys.length > 0 ? [`${'metric'.padEnd(width)}  ${'before'.padStart(9)}  ${'after'.padStart(9)}`] : [];
  for (const key of keys) lines.push(`${key.padEnd(width)}  ${cell(before?.[key])}  ${cell(after[key])}`);
  for (const [id, settings] of Object.entries(figures.metricSettings ?? {})) {
    const entries = Object.entries(settings);
    if (keys.some((k) => k.startsWith(`${id}.`)) && entries.length > 0)
      lines.push(`${id} scored with ${entries.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  const percent = figures.totalParams === 0 ? 0 : (100 * figures.trainableParams) / figures.totalParams;
  lines.push(
    `trainable params: ${figures.trainableParams.toLocaleString('en-US')} || all params: ${figures.totalParams.toLocaleString('en-US')} || trainable%: ${percent.toFixed(4)}`,
    figures.steps > 0 && figures.seconds > 0
      ? `${figures.steps} steps in ${figures.seconds.toFixed(1)} s of training: ${(figures.steps / figures.seconds).toFixed(2)} steps/s, ${(figures.samples / figures.seconds).toFixed(1)} samples/s`
      : 'no training steps in this run',
    `peak memory: RSS ${mib(figures.peakRssBytes)}, tfjs tensors between steps ${mib(figures.peakTensorBytes)}` +
      (figures.stepPeak ? `, within a step ${mib(figures.stepPeak.bytes)} (step ${figures.stepPeak.step})` : ''),
  );
  if (figures.adapterBytes !== undefined)
    lines.push(`adapter file: adapter_model.safetensors ${(figures.adapterBytes / 1024).toFixed(1)} KiB`);
  return lines;
}
