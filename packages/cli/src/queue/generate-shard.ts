// The `generate` shard: rows [start, end) of a batch-generation input file through the model, as
// `mmft generate --input` runs them in one process (generate/range.ts generateRange: the
// same batches, batch k sampling with a seed derived from (seed, k)), returned as output rows for
// the coordinator to concatenate in shard order. The model stays in the worker's cache between
// shards of a run.
import type { CliContext } from '../context';
import { loadModel } from '../commands/generate';
import { readBatchInput } from '../generate/input';
import { generateRange } from '../generate/range';
import type { BatchOutputRow, GenerateBatchSpec } from '../generate/spec';
import { checkSpecPaths } from './embed-shard';
import type { ShardHandler, ShardRange, WorkerCache } from './handlers';

type LoadedModel = Awaited<ReturnType<typeof loadModel>>;

export const generateShardHandler: ShardHandler<GenerateBatchSpec, BatchOutputRow[]> = {
  kind: 'generate',
  async run(spec: GenerateBatchSpec, range: ShardRange, cache: WorkerCache, ctx: CliContext): Promise<BatchOutputRow[]> {
    checkSpecPaths([
      ['<model-dir>', spec.modelDir],
      ['--input', spec.input],
      ['--adapter', spec.adapter],
    ]);
    const rows = readBatchInput(spec.input);
    const key = JSON.stringify(['generate', spec.modelDir, spec.adapter ?? null, Boolean(spec.loadIn4bit), spec.plugin]);
    const model = await cache.get<LoadedModel>(
      key,
      () =>
        loadModel(ctx, spec.modelDir, {
          prompt: [],
          image: [],
          adapter: spec.adapter,
          loadIn4bit: spec.loadIn4bit,
          plugin: [...spec.plugin],
        }),
      (m) => m.dispose(),
    );
    return generateRange(model, spec, rows, range);
  },
};
