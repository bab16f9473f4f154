// Objective.evaluate's `range` (a queue shard): the parts of examples [start, end) are exactly the
// whole pass's parts for those examples (few-shot demos included), and the dataset is read from
// `startAt` on and no further than `end`.
import 'reflect-metadata';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import type { Dataset, EvalPart, Example, IterateOptions } from '@mmft/core';
import { registerGradients } from '@mmft/core/nn';
import { bridge, caption, create, png, vqa } from './toy-bridge.test-helper';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

/** A dataset that honours startAt and records what it was asked for and how many examples it gave. */
function recording(examples: Example[]) {
  const asked: IterateOptions[] = [];
  let given = 0;
  const dataset: Dataset = {
    task: 'caption',
    tasks: ['caption', 'vqa'],
    size: examples.length,
    async *iterate(options: IterateOptions = {}) {
      asked.push(options);
      for (const e of examples.slice(options.startAt ?? 0)) {
        given++;
        yield e;
      }
    },
  };
  return { dataset, asked, given: () => given };
}

const collect = async (parts: AsyncIterable<EvalPart>) => {
  const out: EvalPart[] = [];
  for await (const p of parts) out.push(p);
  return out;
};

describe('causal-lm evaluate with a range', () => {
  const colors = ['red', 'green', 'blue', 'red', 'green'];
  const evalData: Example[] = colors.map((c, i) =>
    i % 2 === 0 ? caption(`c${i}`, [`a ${c} circle`], png(c)) : vqa(`q${i}`, 'what color?', c, png(c)),
  );
  const support = ['red', 'green', 'blue'].flatMap((c) => [
    caption(`s-${c}`, [`a ${c} square`], png(c)),
    vqa(`v-${c}`, 'which color?', c, png(c)),
  ]);

  test('the shards [0,2), [2,4), [4,5) give the parts of the whole pass, in order', async () => {
    const objective = await create(
      { template: 'plain', few_shot: { shots: 1 }, generation: { max_new_tokens: 2 } },
      bridge('placeholder'),
      evalData,
      support,
    );
    const kinds = ['text', 'vqa'] as const;
    const whole = await collect(objective.evaluate(recording(evalData).dataset, { batchSize: 2, kinds }));
    expect(whole).toHaveLength(3);
    const shards: EvalPart[] = [];
    for (const [start, end] of [
      [0, 2],
      [2, 4],
      [4, 5],
    ] as const) {
      const r = recording(evalData);
      shards.push(...(await collect(objective.evaluate(r.dataset, { batchSize: 2, kinds, range: { start, end } }))));
      expect(r.asked).toEqual([{ shuffle: false, startAt: start }]);
      // It stops at `end`: no example past the range is read.
      expect(r.given()).toBe(end - start);
    }
    expect(shards).toEqual(whole);
    expect(shards.flatMap((p) => p.inputs.map((i) => (i.kind === 'retrieval' ? '' : i.id)))).toEqual(evalData.map((e) => e.id));
  });
});
