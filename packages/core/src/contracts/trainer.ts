// Trainer contract: a trainer plugin receives the validated recipe and a resolver for the other
// providers the recipe names, and runs the job. Core owns no training loop of its own.
import type { ProviderBase } from './provider';
import type { ProviderResolver } from './resolver';

export type { ProviderResolver } from './resolver';

/** Progress and log sink: a bar on a TTY, plain lines otherwise (the CLI decides). */
export interface RunReporter {
  info(message: string): void;
  warn(message: string): void;
  progress(update: { step: number; total: number; samples: number; values: Readonly<Record<string, number>> }): void;
}

/** Everything a trainer needs for one run. */
export interface RunContext {
  /** The recipe after `extends`, overrides and schema validation; sections keyed by name. */
  readonly recipe: Readonly<Record<string, unknown>>;
  /** Folder of the recipe file; relative paths in the recipe resolve from here. */
  readonly baseDir: string;
  readonly outputDir: string;
  readonly resolver: ProviderResolver;
  readonly reporter: RunReporter;
  /** Resume from this checkpoint folder when given. */
  readonly resumeFrom?: string;
  /** Aborting it asks the trainer to finish the current step, save and stop (Ctrl-C). */
  readonly signal?: AbortSignal;
  /** Go on where a safety check would refuse (`--force`), e.g. resuming with another batch size. */
  readonly force?: boolean;
  /** The recipe file, for provenance.json (its path, sha256 and git commit). */
  readonly recipeFile?: string;
  /** Train on data files that no longer match their manifest (`--accept-data-change`), recording what changed. */
  readonly acceptDataChange?: boolean;
}

export interface RunSummary {
  readonly steps: number;
  readonly outputDir: string;
  readonly metrics: Readonly<Record<string, number>>;
}

export interface TrainerProvider<Config = unknown> extends ProviderBase<Config> {
  readonly kind: 'trainer';
  run(config: Config, context: RunContext): Promise<RunSummary>;
}

declare module './kinds' {
  interface ProviderKindMap {
    trainer: TrainerProvider;
  }
}
