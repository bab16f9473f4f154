// The summary a training run prints at its end (log/run-summary.ts formats it): the scores before and
// after, parameter counts (16- and 4-bit weights included), throughput, memory and the adapter's size.
import * as fs from 'node:fs/promises';
import type { LogEntry } from '../checkpoint/trainer-state';
import { formatRunSummary, type RunFigures } from '../log/run-summary';
import { sanityLines, type SanityVerdict } from '../sanity/verdict';

/** The numeric scores of a metrics.jsonl entry (kind and step left out). */
export const scoresOf = (entry: LogEntry | undefined): Record<string, number> | undefined =>
  entry &&
  Object.fromEntries(
    Object.entries(entry).filter((e): e is [string, number] => e[0] !== 'kind' && e[0] !== 'step' && typeof e[1] === 'number'),
  );

/** What the loop knows at its end. */
export interface FinalSummaryInputs {
  readonly before: Record<string, number> | undefined;
  readonly lastEval: Record<string, number>;
  readonly history: readonly LogEntry[];
  /** Whether this run took any step (a resumed run may have none left). */
  readonly ranSteps: boolean;
  readonly counts: { trainable: number; total: number };
  readonly steps: number;
  readonly samples: number;
  readonly seconds: number;
  readonly peakTensorBytes: number;
  readonly stepPeak: { bytes: number; step: number } | undefined;
  /** checkpoint-last's adapter file, when the run trains an adapter. */
  readonly adapterFile: string | undefined;
  readonly metricSettings: RunFigures['metricSettings'];
  /** A sanity run's verdict (train.overfit_batches), shown after the figures. */
  readonly sanity?: SanityVerdict;
}

/**
 * The summary's lines. A run with nothing left to do shows the scores its checkpoint ended with.
 *
 * @example
 * for (const line of await finalSummary(inputs)) context.reporter.info(line);
 */
export async function finalSummary(inputs: FinalSummaryInputs): Promise<string[]> {
  const adapterBytes = inputs.adapterFile
    ? await fs.stat(inputs.adapterFile).then(
        (s) => s.size,
        () => undefined,
      )
    : undefined;
  const after =
    Object.keys(inputs.lastEval).length === 0 && !inputs.ranSteps
      ? (scoresOf([...inputs.history].reverse().find((e) => e.kind === 'eval')) ?? {})
      : inputs.lastEval;
  const lines = formatRunSummary(inputs.before, after, {
    trainableParams: inputs.counts.trainable,
    totalParams: inputs.counts.total,
    steps: inputs.steps,
    samples: inputs.samples,
    seconds: inputs.seconds,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    peakTensorBytes: inputs.peakTensorBytes,
    ...(inputs.stepPeak ? { stepPeak: inputs.stepPeak } : {}),
    adapterBytes,
    metricSettings: inputs.metricSettings,
  });
  return inputs.sanity ? [...lines, ...sanityLines(inputs.sanity)] : lines;
}
