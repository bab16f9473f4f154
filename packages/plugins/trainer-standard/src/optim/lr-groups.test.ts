// train.lr_groups: which parameters take which peak lr (towers and globs, first group wins, decay
// flags untouched), AdamW with a group lr against a float64 reference of torch's update under a
// schedule that scales every group, and a real run whose first AdamW step moves the grouped tower
// by its own lr.
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import type { RunContext } from '@mmft/core';
import { readTensorFile } from '@mmft/core/io';
import { registerGradients } from '@mmft/core/nn';
import { recordingReporter, registry } from '../fixtures.test-helper';
import { runTraining, trainConfigSchema } from '../index';
import { AdamW, type ParamEntry } from './adamw';
import { withLrGroups } from './param-groups';
import { lrMultiplier } from './schedule';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

const LLAVA_TOWERS = { vision: ['vision_tower.**'], projector: ['multi_modal_projector.**'], language: ['language_model.**'] };

const entry = (name: string, decay: boolean): ParamEntry => ({ name, variable: tf.variable(tf.zeros([2, 2])), decay });

describe('withLrGroups', () => {
  const entries = [
    entry('multi_modal_projector.modules_to_save.default.linear_1.weight', true),
    entry('multi_modal_projector.modules_to_save.default.linear_1.bias', false),
    entry('language_model.model.layers.0.self_attn.q_proj.lora_A.default.weight', true),
    entry('language_model.model.layers.0.self_attn.q_proj.lora_B.default.weight', true),
  ];

  test("LLaVA's mm_projector_lr: the projector tower at its own lr, the rest at train.lr, decay flags kept", () => {
    const out = withLrGroups(entries, [{ params: 'projector', lr: 2e-5 }], 2e-4, LLAVA_TOWERS);
    expect(out.map((e) => e.lrScale)).toEqual([2e-5 / 2e-4, 2e-5 / 2e-4, undefined, undefined]);
    expect(out.map((e) => e.decay)).toEqual([true, false, true, true]);
    expect(out.map((e) => e.name)).toEqual(entries.map((e) => e.name));
  });

  test('globs and lists; the first matching group wins', () => {
    const out = withLrGroups(
      entries,
      [
        { params: ['**.lora_B.**'], lr: 3 },
        { params: ['language', 'projector'], lr: 4 },
      ],
      2,
      LLAVA_TOWERS,
    );
    expect(out.map((e) => e.lrScale)).toEqual([2, 2, 2, 1.5]);
  });

  test('a group matching no trainable parameter is an error naming it and the towers', () => {
    expect(() => withLrGroups(entries, [{ params: 'vision', lr: 1e-5 }], 1e-4, LLAVA_TOWERS)).toThrow(
      /train\.lr_groups\[0\]\.params "vision" matches no trainable parameter; towers of this model: vision, projector, language/,
    );
    expect(() => withLrGroups(entries, [{ params: 'projektor', lr: 1e-5 }], 1e-4, LLAVA_TOWERS)).toThrow(/lr_groups\[0\]/);
  });

  test('no groups: entries unchanged', () => {
    expect(withLrGroups(entries, [], 1e-4, LLAVA_TOWERS)).toEqual(entries);
  });
});

/** torch.optim.AdamW's single-tensor update in float64 for one scalar, with the lr of each step. */
function torchAdamW(p: number, grads: readonly number[], lrs: readonly number[], wd: number, b1: number, b2: number, eps: number): number {
  let [m, v] = [0, 0];
  grads.forEach((g, i) => {
    const t = i + 1;
    const lr = lrs[i]!;
    p *= 1 - lr * wd;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    p -= (lr / (1 - b1 ** t)) * (m / (Math.sqrt(v) / Math.sqrt(1 - b2 ** t) + eps));
  });
  return p;
}

test('AdamW: each group follows its own peak lr times the shared warmup + cosine multiplier', () => {
  const base = 0.1;
  const projectorLr = 0.02;
  const a = tf.variable(tf.tensor2d([[0.7]]));
  const b = tf.variable(tf.tensor2d([[0.7]]));
  const params = withLrGroups(
    [
      { name: 'multi_modal_projector.linear_1.weight', variable: a, decay: true },
      { name: 'language_model.lm_head.weight', variable: b, decay: true },
    ],
    [{ params: 'projector', lr: projectorLr }],
    base,
    LLAVA_TOWERS,
  );
  const opt = new AdamW(params, { betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.05 });
  const grads = [0.3, -0.2, 0.5, 0.1, -0.4];
  const multipliers = grads.map((_, i) => lrMultiplier('cosine', i, 2, grads.length));
  for (const [i, g] of grads.entries()) {
    opt.step(
      new Map<string, tf.Tensor>([
        ['multi_modal_projector.linear_1.weight', tf.tensor2d([[g]])],
        ['language_model.lm_head.weight', tf.tensor2d([[g]])],
      ]),
      base * multipliers[i]!,
    );
  }
  const expectA = torchAdamW(
    0.7,
    grads,
    multipliers.map((m) => projectorLr * m),
    0.05,
    0.9,
    0.999,
    1e-8,
  );
  const expectB = torchAdamW(
    0.7,
    grads,
    multipliers.map((m) => base * m),
    0.05,
    0.9,
    0.999,
    1e-8,
  );
  expect(a.dataSync()[0]).toBeCloseTo(expectA, 6);
  expect(b.dataSync()[0]).toBeCloseTo(expectB, 6);
  expect(Math.abs(expectA - expectB)).toBeGreaterThan(0.05); // the groups really differ
  opt.dispose();
});

test('a run: after one AdamW step (no decay) the vision group moved by its own lr, the rest as without groups', async () => {
  const run = async (lrGroups: unknown[]) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-lr-groups-'));
    const context: RunContext = {
      recipe: {
        name: 'tiny',
        seed: 7,
        model: { type: 'tiny-dual', config: { seed: 3 } },
        data: { train: { type: 'memory', name: 'train' } },
        loss: { type: 'test-infonce' },
        metrics: [],
      },
      baseDir: dir,
      outputDir: dir,
      resolver: registry(),
      reporter: recordingReporter(),
    };
    const config = { batch_size: 4, max_steps: 1, lr: 0.01, weight_decay: 0, schedule: 'constant', eval_before: false };
    await runTraining(trainConfigSchema.parse({ ...config, lr_groups: lrGroups }), context);
    return (await readTensorFile(path.join(dir, 'checkpoint-last', 'trainable.safetensors'))).tensors;
  };
  const plain = await run([]);
  const grouped = await run([{ params: 'vision', lr: 0.03 }]);
  // Both runs take their first step from the same weights with the same gradient, and Adam's first
  // step is lr · g / (|g| + eps): a weight with a gradient moves by 0.03 instead of 0.01.
  const maxGap = (name: string) => {
    const a = plain.get(name)!.data as ArrayLike<number>;
    const b = grouped.get(name)!.data as ArrayLike<number>;
    return Math.max(...Array.from(a, (x, i) => Math.abs(b[i]! - x)));
  };
  expect(maxGap('vision_model.weight')).toBeCloseTo(0.02, 4);
  expect(maxGap('visual_projection.weight')).toBeCloseTo(0.02, 4);
  for (const name of ['text_projection.weight', 'token_embedding.weight', 'logit_scale']) expect(maxGap(name)).toBe(0);
});
