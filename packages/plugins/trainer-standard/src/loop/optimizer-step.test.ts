// Accumulation weights every item alike: each micro-batch's summed loss is divided by the total
// count of the step's micro-batches (HF Trainer's num_items_in_batch), not by their number.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import type { Objective, ObjectiveBatch } from '@mmft/core';
import { registerGradients } from '@mmft/core/nn';
import { AdamW } from '../optim/adamw';
import { optimizerStep } from './optimizer-step';
import type { MicroStep } from './sources';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

/** A micro-batch of `items` items whose loss is w · Σ item values (its sum over `count` items). */
function micro(w: tf.Variable, items: readonly number[]): MicroStep {
  const batch = { inputs: {}, examples: [], count: items.length, values: items, dispose: () => undefined } as ObjectiveBatch & {
    values: readonly number[];
  };
  return { batch, size: items.length, epoch: 0, nextPosition: items.length };
}

describe('optimizerStep', () => {
  test('divides by the total item count across micro-batches', async () => {
    const w = tf.variable(tf.scalar(1), true, 'w');
    const objective = {
      loss: (b: ObjectiveBatch) => tf.mul(w, tf.sum(tf.tensor1d([...(b as ObjectiveBatch & { values: number[] }).values]))),
    } as unknown as Objective;
    const params = [{ name: 'w', variable: w, decay: false }];
    const optimizer = new AdamW(params, { betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 });
    // Items 2 | 3, 3, 3: the mean over the four items is 11 / 4, whatever the micro-batch sizes.
    const result = await optimizerStep([micro(w, [2]), micro(w, [3, 3, 3])], objective, params, optimizer, {
      lr: 0,
      maxGradNorm: 0,
      step: 1,
    });
    expect(result.loss).toBeCloseTo(11 / 4, 6);
    expect(result.gradNorm).toBeCloseTo(11 / 4, 6);
    optimizer.dispose();
    w.dispose();
  });
});
