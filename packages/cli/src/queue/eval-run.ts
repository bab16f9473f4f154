// `mmft eval recipe R --json OUT [--queue URL --shard-size N]`: the recipe's model through its
// objective on data.eval, as shards of whole batches on the queue's workers, or as one shard in
// this process; both merge through eval-merge.ts, so the two write the same JSON.
import * as path from 'node:path';
import { CommanderError } from 'commander';
import { fedMetric, MmftError } from '@mmft/core';
import type { CliContext } from '../context';
import { prepareRecipeEval, type EvalRecipeOptions } from '../commands/eval-recipe';
import { writeJson } from '../commands/eval-json';
import { sectionOf, withoutType } from '../probe/recipe-parts';
import { LruWorkerCache } from './cache';
import { evalShardHandler, openEvalData, type EvalShardResult, type EvalShardSpec } from './eval-shard';
import { flatScores, mergeEvalShards } from './eval-merge';
import { runSharded } from './run-sharded';

/** Shards default to this many batches: enough work per job that loading and queueing stay small beside it. */
const DEFAULT_SHARD_BATCHES = 8;

/** Runs the command; exported for tests. */
export async function runRecipeJson(ctx: CliContext, recipeFile: string, o: EvalRecipeOptions): Promise<void> {
  const { raw, registry, recipe, outputDir } = await prepareRecipeEval(ctx, recipeFile, o, '--json/--queue');
  const data = await openEvalData(registry, recipe, raw.baseDir, raw.file);
  let total = data.size;
  if (total === undefined) {
    total = 0;
    for await (const _ of data.iterate({ shuffle: false })) total++;
  }
  if (total === 0) throw new MmftError('E_DATA', `${raw.file}: data.eval has no example to evaluate`, { hint: 'check data.eval' });
  // As probe/recipe-parts.ts createRecipeObjective picks it (the worker builds the objective there).
  const train = sectionOf(recipe.train);
  const batchSize = o.batchSize ?? Number(train?.eval_batch_size ?? train?.batch_size ?? 16);
  const shardSize = o.shardSize ?? batchSize * DEFAULT_SHARD_BATCHES;
  if (o.queue && shardSize % batchSize !== 0) {
    throw new MmftError('E_INPUT', `--shard-size ${shardSize} is not a multiple of the batch size ${batchSize}`, {
      hint: `give --shard-size ${batchSize * Math.max(1, Math.round(shardSize / batchSize))} (shards of whole batches evaluate exactly the batches of one pass)`,
    });
  }
  const metrics = (Array.isArray(recipe.metrics) ? recipe.metrics : []).map((m) => {
    const [id, settings] = withoutType(sectionOf(m)!);
    return fedMetric(registry.resolve('metric', id), settings, id);
  });
  const spec: EvalShardSpec = {
    recipe: path.resolve(ctx.cwd, recipeFile),
    set: o.set,
    plugin: o.plugin ?? [],
    cwd: ctx.cwd,
    ...(o.model ? { model: path.resolve(ctx.cwd, o.model) } : {}),
    ...(o.adapter ? { adapter: path.resolve(ctx.cwd, o.adapter) } : {}),
    outputDir,
    batchSize,
    total,
  };
  let results: EvalShardResult[];
  if (o.queue) {
    const queue = o.queue;
    const { value, interrupted } = await ctx.interruptible(
      (signal) =>
        runSharded<EvalShardResult>({ queue, kind: 'eval', spec, total, shardSize, ctx, label: 'eval', signal }).catch((error: unknown) => {
          if (signal.aborted) return undefined;
          throw error;
        }),
      "stopping: removing this run's waiting shards from the queue",
    );
    if (interrupted || !value)
      throw new CommanderError(interrupted?.exitCode ?? 130, 'mmft.interrupted', `stopped by ${interrupted?.signal ?? 'SIGINT'}`);
    results = value;
  } else {
    ctx.print(`evaluating ${total} examples of data.eval`);
    const cache = new LruWorkerCache(1);
    try {
      results = [await evalShardHandler.run(spec, { start: 0, end: total }, cache, ctx)];
    } finally {
      await cache.clear();
    }
  }
  const doc = mergeEvalShards(results, metrics, { recipe: raw.file, examples: total, producer: `the objective of ${raw.file}` });
  const scores = flatScores(doc, metrics);
  const width = Math.max(6, ...Object.keys(scores).map((k) => k.length));
  ctx.print(`${'metric'.padEnd(width)}  ${'value'.padStart(9)}`);
  for (const [key, value] of Object.entries(scores)) ctx.print(`${key.padEnd(width)}  ${value.toFixed(2).padStart(9)}`);
  await writeJson(ctx, o.json, doc);
}
