// Objective.evaluate's `range` (a queue shard) on the contrastive objective, both modes: the
// retrieval parts of [start, end) are the whole pass's chunks for those examples; captioning by
// retrieval and zero-shot VQA (whole-set kinds) are refused with a range.
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { isMmftError, type EvalPart, type MetricInputKind } from '@mmft/core';
import { contrastiveObjective } from './plugin';
import { captions, tinyContext } from './conformance.test-helper';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-contrastive-range-'));

async function partsOf(config: unknown, kinds: MetricInputKind[], range?: { start: number; end: number }): Promise<EvalPart[]> {
  const objective = await contrastiveObjective.create(contrastiveObjective.configSchema.parse(config), await tinyContext(tmp(), captions));
  try {
    const out: EvalPart[] = [];
    for await (const part of objective.evaluate(undefined, { batchSize: 2, kinds, ...(range ? { range } : {}) })) out.push(part);
    return out;
  } finally {
    objective.dispose();
  }
}

describe('contrastive evaluate with a range', () => {
  for (const config of [{}, { feature_based: true }]) {
    test(`shards [0,2), [2,4), [4,6) give the whole pass's retrieval parts (${JSON.stringify(config)})`, async () => {
      const whole = await partsOf(config, ['retrieval']);
      expect(whole).toHaveLength(3);
      const shards = [
        ...(await partsOf(config, ['retrieval'], { start: 0, end: 2 })),
        ...(await partsOf(config, ['retrieval'], { start: 2, end: 4 })),
        ...(await partsOf(config, ['retrieval'], { start: 4, end: 6 })),
      ];
      expect(shards).toEqual(whole);
      // Each shard holds its own examples only.
      expect(await partsOf(config, ['retrieval'], { start: 2, end: 4 })).toEqual([whole[1]]);
    });
  }

  test('captioning by retrieval and zero-shot VQA are whole-set kinds: refused with a range, naming the examples', async () => {
    const objective = await contrastiveObjective.create(contrastiveObjective.configSchema.parse({}), await tinyContext(tmp(), captions));
    expect(objective.wholeSetKinds).toEqual(['text', 'vqa']);
    let error: unknown;
    try {
      objective.evaluate(undefined, { batchSize: 2, kinds: ['retrieval', 'text'], range: { start: 2, end: 4 } });
    } catch (e) {
      error = e;
    }
    expect(isMmftError(error) && error.code).toBe('E_UNSUPPORTED');
    expect((error as Error).message).toBe(
      'the contrastive objective computes text inputs by comparing every eval example with every other, so it cannot evaluate them on examples 2–3 alone',
    );
    objective.dispose();
  });
});
