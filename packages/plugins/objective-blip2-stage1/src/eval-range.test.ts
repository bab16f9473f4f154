// Objective.evaluate's `range` (a queue shard) on the stage-1 objective: the chunks that start in
// [start, end) are the whole pass's, the joined last chunk included (it belongs to the shard it
// starts in); retrieval (one similarity matrix of the whole split) is refused with a range.
import 'reflect-metadata';
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import type { EvalPart, Example } from '@mmft/core';
import { blip2Stage1ConfigSchema } from './config';
import { captions, fakeContext, fakeQueryTransformer } from './fake-model.test-helper';
import { blip2Stage1Provider } from './plugin';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-blip2-range-'));

async function objectiveOver(evalSet: readonly Example[]) {
  return blip2Stage1Provider.create(
    blip2Stage1ConfigSchema.parse({}),
    await fakeContext(tmp(), { model: fakeQueryTransformer(), eval: evalSet }),
  );
}

async function parts(evalSet: readonly Example[], range?: { start: number; end: number }): Promise<EvalPart[]> {
  const objective = await objectiveOver(evalSet);
  const out: EvalPart[] = [];
  for await (const part of objective.evaluate(undefined, { batchSize: 2, kinds: [], ...(range ? { range } : {}) })) out.push(part);
  return out;
}

describe('blip2-stage1 evaluate with a range', () => {
  test.each([
    [6, 2],
    [6, 4],
    [5, 2],
    [5, 4],
  ])('%i examples in shards of %i: the parts of the whole pass, each once', async (n, shardSize) => {
    const evalSet = captions.slice(0, n);
    const whole = await parts(evalSet);
    const shards: EvalPart[] = [];
    for (let start = 0; start < n; start += shardSize)
      shards.push(...(await parts(evalSet, { start, end: Math.min(n, start + shardSize) })));
    expect(shards.map((p) => p.count)).toEqual(whole.map((p) => p.count));
    expect(shards).toEqual(whole);
  });

  test('five examples: the last one joins the chunk before it, which belongs to the shard [2, 4)', async () => {
    const evalSet = captions.slice(0, 5);
    expect((await parts(evalSet, { start: 2, end: 4 })).map((p) => p.count)).toEqual([3]);
    expect(await parts(evalSet, { start: 4, end: 5 })).toEqual([]);
  });

  test('retrieval and a range starting inside a chunk are refused', async () => {
    const objective = await objectiveOver(captions);
    expect(objective.wholeSetKinds).toEqual(['retrieval']);
    const run = async (kinds: ['retrieval'] | [], start: number) => {
      for await (const part of objective.evaluate(undefined, { batchSize: 2, kinds, range: { start, end: start + 2 } })) void part;
    };
    await expect(run(['retrieval'], 2)).rejects.toMatchObject({
      code: 'E_UNSUPPORTED',
      message:
        'objective blip2-stage1 scores retrieval on one similarity matrix of the whole eval split, so it cannot evaluate it on examples 2–3 alone',
    });
    await expect(run([], 1)).rejects.toMatchObject({
      code: 'E_INPUT',
      message: expect.stringContaining('a range must start at a multiple of it, not at 1'),
    });
  });
});
