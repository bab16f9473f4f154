// Core's masks tests (testing/nn-suite/masks.ts) on tfjs's cpu backend; backend plugins re-run
// the same suite with their kernels installed (backend-tfjs: src/nn-suite.*.test.ts).
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { describeNnSuite } from '../testing/nn-suite';
import { causalLmMask, MASK_MIN } from './masks';

describeNnSuite('cpu', { setup: () => tf.setBackend('cpu'), only: ['masks'] });

describe('causalLmMask over padding, written out (cpu)', () => {
  beforeAll(() => tf.setBackend('cpu'));

  test('each entry is MASK_MIN when the key is in the future or padding, else 0, exactly', () => {
    const [batch, length, past] = [3, 4, 2];
    const rows = [
      [1, 1, 1, 1, 1, 1],
      [0, 0, 1, 1, 1, 1],
      [1, 1, 1, 1, 0, 0],
    ];
    const mask = causalLmMask(tf.tensor2d(rows, [batch, past + length], 'int32'), batch, length, past);
    expect(mask.shape).toEqual([batch, 1, length, past + length]);
    const expected = rows.map((row) => [
      Array.from({ length }, (_, t) => row.map((attend, j) => (j <= past + t && attend === 1 ? 0 : MASK_MIN))),
    ]);
    expect(mask.arraySync()).toEqual(expected);
  });
});
