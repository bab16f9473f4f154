// Experiment-tracking contract: where a training run sends its curves, text and images besides
// metrics.jsonl (TensorBoard event files, later W&B). Chosen by `train.report_to` (HF
// TrainingArguments.report_to), not by a recipe section of its own.
import type { ProviderBase } from './provider';

/**
 * One run's tracking sink. Writes are synchronous from the loop's side and never throw for a
 * full buffer; `close()` writes what is buffered and closes the files.
 *
 * (Named RunTracker, not RunReporter: that name is the trainer's progress sink in ./trainer.ts.)
 *
 * @example
 * const t = await provider.open({}, { outputDir: 'runs/a', runName: 'a' });
 * t.scalars(1, { 'train/loss': 2.5 }); await t.close();
 */
export interface RunTracker {
  scalars(step: number, values: Readonly<Record<string, number>>): void;
  text(step: number, tag: string, markdown: string): void;
  image(step: number, tag: string, png: Uint8Array, size: { width: number; height: number }): void;
  /** Writes what is buffered and closes the files. */
  close(): Promise<void>;
}

/** What a reporter knows about the run it opens for. */
export interface ReporterRun {
  readonly outputDir: string;
  readonly runName: string;
  /** Set when the run resumes a checkpoint at this step: a reporter starts a new file (HF's behaviour). */
  readonly resumedAtStep?: number;
}

/** A reporter plugin (`tensorboard`, ...): `open` starts tracking one run. */
export interface ReporterProvider<Config = unknown> extends ProviderBase<Config> {
  readonly kind: 'reporter';
  open(config: Config, run: ReporterRun): Promise<RunTracker>;
}

declare module './kinds' {
  interface ProviderKindMap {
    reporter: ReporterProvider;
  }
}
