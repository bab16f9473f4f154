// The `embed` shard: a dual encoder's features for records [start, end) of the data file, as
// `mmft embed` computes them in one process (embed/range.ts embedRange), for the coordinator to
// merge in shard order (mergeEmbedShards). The model and the opened dataset stay in the worker's
// cache between shards of a run.
import * as fs from 'node:fs';
import { MmftError, type Dataset } from '@mmft/core';
import type { CliContext } from '../context';
import { embedRegistry, loadFeatureModel, openEmbedData, type EmbedSpec, type FeatureModel } from '../embed/model';
import { embedRange, type EmbedShardResult } from '../embed/range';
import type { ShardHandler, ShardRange, WorkerCache } from './handlers';

interface EmbedSession {
  readonly model: FeatureModel;
  readonly dataset: Dataset;
}

/** Fails the shard when this machine does not see a path the coordinator gave. */
export function checkSpecPaths(named: ReadonlyArray<readonly [string, string | undefined]>): void {
  for (const [role, file] of named) {
    if (file !== undefined && !fs.existsSync(file)) {
      throw new MmftError('E_INPUT', `${role} ${file} does not exist on this worker`, {
        hint: 'workers read the paths the coordinator gave: run them where those files are (a shared filesystem at the same path)',
      });
    }
  }
}

export const embedShardHandler: ShardHandler<EmbedSpec, EmbedShardResult> = {
  kind: 'embed',
  async run(spec: EmbedSpec, range: ShardRange, cache: WorkerCache, ctx: CliContext): Promise<EmbedShardResult> {
    checkSpecPaths([
      ['<model-dir>', spec.modelDir],
      ['<data>', spec.data],
      ['--adapter', spec.adapter],
    ]);
    const key = JSON.stringify(['embed', spec.modelDir, spec.adapter ?? null, spec.data, spec.plugin]);
    const session = await cache.get<EmbedSession>(
      key,
      async () => {
        const registry = await embedRegistry(ctx, spec.plugin);
        const model = await loadFeatureModel(registry, spec);
        try {
          return { model, dataset: await openEmbedData(registry, spec.data) };
        } catch (error) {
          model.dispose();
          throw error;
        }
      },
      (s) => s.model.dispose(),
    );
    return embedRange(session.model, session.dataset, range, spec.batchSize);
  },
};
