// Where few-shot demos come from (episodes.ts draws them, encoder.ts renders them): solved caption
// or VQA examples put before each such example (docs/language-models.md, "Few-shot and interleaved
// data"), from the training data in training and from objective.few_shot.support in evaluation.
import { datasetContext, MmftError, type Dataset, type ObjectiveContext } from '@mmft/core';
import type { FewShotConfig } from './config';
import { readPool, type DemoPool } from './episodes';

/** Where a phase's demos come from: a dataset (read into memory on first use) and its recipe path, for messages. */
export interface DemoSource {
  readonly where: string;
  pool(): Promise<DemoPool>;
}

/** The demo sources of a run, per phase. */
export interface DemoSources {
  readonly train: DemoSource;
  readonly eval: DemoSource;
}

const demoSource = (where: string, open: () => Promise<Dataset>): DemoSource => {
  let pool: Promise<DemoPool> | undefined;
  return { where, pool: () => (pool ??= open().then(readPool)) };
};

/**
 * The demo sources of few-shot episodes. Training demos come from the training data (the run's, else
 * the recipe's data.train section: an evaluation-only run has no training data), so a training
 * episode never shows the support set; evaluation demos from objective.few_shot.support, opened here
 * as the recipe's data sections are (provider by `type`, strict keys, relative paths from
 * few_shot.base_dir), else from the training data.
 */
export async function demoSources(fewShot: FewShotConfig, context: ObjectiveContext): Promise<{ train: DemoSource; eval: DemoSource }> {
  const open = (section: Record<string, unknown>, baseDir: string, where: string) => {
    const { type, ...rest } = section;
    return datasetContext(context.resolver, baseDir, where).open!({ ...rest, type: String(type) }, where);
  };
  const train = demoSource('data.train', async () => {
    if (context.train) return context.train;
    const section = (context.recipe.data as { train?: unknown } | undefined)?.train;
    if (section && typeof section === 'object' && typeof (section as { type?: unknown }).type === 'string') {
      // Its own path fields are resolved already; those of nested sections (a mix's sources) resolve
      // from base_dir, the recipe's folder, as the trainer's datasetContext resolves them.
      return open(section as Record<string, unknown>, fewShot.base_dir, 'data.train');
    }
    throw new MmftError('E_CONFIG', 'objective.few_shot asks for in-context examples, but there is no data to draw them from', {
      hint: 'set objective.few_shot.support to a data section (e.g. { type: shapes, task: caption, n: 64 }), or give the recipe data.train',
    });
  });
  if (!fewShot.support || fewShot.shots === 0) return { train, eval: train };
  // Opened now, so a misspelt support section fails before training starts; read when evaluation first needs it.
  const where = 'objective.few_shot.support';
  const support = await open(fewShot.support, fewShot.base_dir, where);
  return { train, eval: demoSource(where, async () => support) };
}
