// The shared objective conformance kit against the contrastive objective, in both modes, plus
// what its evaluation emits: retrieval, retrieval-as-captioning text inputs and zero-shot VQA.
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import type { MetricInput, TextInput, VqaInput } from '@mmft/core';
import { describeObjective } from '@mmft/core/testing';
import { contrastiveObjective } from './plugin';
import { captions, questions, tinyContext } from './conformance.test-helper';

describeObjective(contrastiveObjective, { config: {}, context: (dir) => tinyContext(dir), examples: captions.slice(0, 3) });
describeObjective(contrastiveObjective, {
  config: { feature_based: true },
  context: (dir) => tinyContext(dir),
  examples: captions.slice(0, 3),
});

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-contrastive-'));

async function inputsOf(
  config: unknown,
  evalSet = captions,
  kinds: MetricInput['kind'][] = ['retrieval', 'text', 'vqa'],
): Promise<MetricInput[]> {
  const objective = await contrastiveObjective.create(contrastiveObjective.configSchema.parse(config), await tinyContext(tmp(), evalSet));
  const out: MetricInput[] = [];
  for await (const part of objective.evaluate(undefined, { batchSize: 4, kinds: kinds.filter((k) => objective.emits.includes(k)) }))
    out.push(...part.inputs);
  objective.dispose();
  return out;
}

describe('contrastive evaluation inputs', () => {
  test('retrieval per chunk, then one text input per image: the best-ranked eval caption and its own captions', async () => {
    const inputs = await inputsOf({});
    expect(inputs.filter((i) => i.kind === 'retrieval')).toHaveLength(2); // 6 images in chunks of 4
    const texts = inputs.filter((i): i is TextInput => i.kind === 'text');
    expect(texts.map((t) => t.id)).toEqual(captions.map((c) => c.id));
    const all = captions.flatMap((c) => (c.task === 'caption' ? c.captions : []));
    for (const [i, t] of texts.entries()) {
      expect(all).toContain(t.prediction);
      const own = captions[i]!;
      expect(t.references).toEqual(own.task === 'caption' ? own.captions : []);
    }
  });

  test('the same inputs from cached features (feature_based)', async () => {
    const model = (await inputsOf({})).filter((i) => i.kind === 'text');
    const cached = (await inputsOf({ feature_based: true })).filter((i) => i.kind === 'text');
    expect(cached.map((t) => (t as TextInput).references)).toEqual(model.map((t) => (t as TextInput).references));
  });

  test('a vqa split: each question answered by the closest answer of the split vocabulary', async () => {
    const inputs = await inputsOf({}, questions);
    expect(inputs.every((i) => i.kind === 'vqa')).toBe(true);
    const vqa = inputs as VqaInput[];
    expect(vqa.map((v) => v.id)).toEqual(questions.map((q) => q.id));
    for (const v of vqa) {
      expect(['red', 'green', 'blue']).toContain(v.prediction);
      expect(v.answers).toHaveLength(10);
      expect(v.answerType).toBe('other');
    }
  });

  test('a split mixing tasks is refused, naming them (one evaluation path per split)', async () => {
    await expect(inputsOf({}, [...questions, ...captions])).rejects.toThrow(/one task per split; data.eval mixes vqa, caption/);
  });

  test('kinds not asked for are not computed', async () => {
    expect(await inputsOf({}, captions, ['retrieval'])).toHaveLength(2);
    expect(await inputsOf({}, captions, [])).toEqual([]);
  });
});
