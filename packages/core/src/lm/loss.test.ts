import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { isMmftError } from '../errors';
import { registerGradients } from '../nn/gradients';
import { describeNnSuite } from '../testing/nn-suite';
import { causalLmLoss } from './loss';

beforeAll(async () => {
  tf.env().set('IS_TEST', true);
  await tf.setBackend('cpu');
  registerGradients();
});

/** −log softmax(row)[label] in float64, straight from the definition. */
const nll = (row: readonly number[], label: number): number => {
  const peak = Math.max(...row);
  const lse = peak + Math.log(row.reduce((s, x) => s + Math.exp(x - peak), 0));
  return lse - row[label];
};

// B = 2, T = 3, V = 4. Row 0 scores positions 0, 1 (labels 2, 1 after the shift); row 1 scores
// position 1 only (its label at t = 1 is -100, at t = 2 it is 3).
const LOGITS = [
  [
    [0.5, -1.0, 2.0, 0.1],
    [1.5, 0.3, -0.7, 0.0],
    [9.0, 9.0, 9.0, 9.0],
  ],
  [
    [0.2, 0.2, -2.0, 1.0],
    [-0.4, 1.1, 0.6, 2.5],
    [3.0, -3.0, 0.0, 1.0],
  ],
];
const LABELS = [
  [0, 2, 1], // column 0 is never scored
  [-100, -100, 3],
];
const TERMS = [nll(LOGITS[0][0], 2), nll(LOGITS[0][1], 1), nll(LOGITS[1][1], 3)];

const logits = () => tf.tensor3d(LOGITS);
const labels = () => tf.tensor2d(LABELS, [2, 3], 'int32');

describe('causalLmLoss (transformers ForCausalLMLoss)', () => {
  test('mean over the shifted, non-ignored labels equals the hand computation', () => {
    const loss = causalLmLoss(logits(), labels());
    expect(loss.shape).toEqual([]);
    expect(loss.dataSync()[0]).toBeCloseTo((TERMS[0] + TERMS[1] + TERMS[2]) / 3, 5);
  });

  test('with numItemsInBatch the sum is divided by it instead', () => {
    expect(causalLmLoss(logits(), labels(), 10).dataSync()[0]).toBeCloseTo((TERMS[0] + TERMS[1] + TERMS[2]) / 10, 6);
  });

  test('two half-batches with numItemsInBatch add up to the full batch mean (gradient accumulation)', () => {
    const full = causalLmLoss(logits(), labels()).dataSync()[0];
    const rows = (i: number) => [tf.slice(logits(), [i, 0, 0], [1, 3, 4]), tf.slice(labels(), [i, 0], [1, 3])] as const;
    const [l0, y0] = rows(0);
    const [l1, y1] = rows(1);
    const halves = causalLmLoss(l0, y0, 3).dataSync()[0] + causalLmLoss(l1, y1, 3).dataSync()[0];
    expect(halves).toBeCloseTo(full, 6);
    // whereas averaging the two half-batch means weights row 1's single token twice as much
    const naive = (causalLmLoss(l0, y0).dataSync()[0] + causalLmLoss(l1, y1).dataSync()[0]) / 2;
    expect(Math.abs(naive - full)).toBeGreaterThan(1e-3);
  });

  test('float labels are accepted as ids; labels in the last column are never scored', () => {
    const floatLabels = tf.tensor2d(LABELS, [2, 3], 'float32');
    expect(causalLmLoss(logits(), floatLabels).dataSync()[0]).toBeCloseTo((TERMS[0] + TERMS[1] + TERMS[2]) / 3, 5);
    const shortened = causalLmLoss(tf.slice(logits(), [0, 0, 0], [2, 1, 4]), tf.slice(labels(), [0, 0], [2, 1]));
    expect(Number.isNaN(shortened.dataSync()[0])).toBe(true); // T = 1: nothing to predict
  });

  test('every label ignored: NaN for the mean (0 / 0 as PyTorch), 0 with numItemsInBatch', () => {
    const none = tf.fill([2, 3], -100, 'int32');
    expect(Number.isNaN(causalLmLoss(logits(), none).dataSync()[0])).toBe(true);
    expect(causalLmLoss(logits(), none, 5).dataSync()[0]).toBe(0);
  });

  test('gradient is (softmax − onehot) / count on scored positions and 0 elsewhere', () => {
    const grad = tf
      .grad((x: tf.Tensor) => causalLmLoss(x, labels()))(logits())
      .arraySync() as number[][][];
    const expected = LOGITS.map((row) => row.map(() => [0, 0, 0, 0]));
    const scored: Array<[number, number, number]> = [
      [0, 0, 2],
      [0, 1, 1],
      [1, 1, 3],
    ];
    for (const [b, t, label] of scored) {
      const row = LOGITS[b][t];
      const z = row.reduce((s, x) => s + Math.exp(x), 0);
      expected[b][t] = row.map((x, v) => (Math.exp(x) / z - (v === label ? 1 : 0)) / scored.length);
    }
    for (let b = 0; b < 2; b++)
      for (let t = 0; t < 3; t++) for (let v = 0; v < 4; v++) expect(grad[b][t][v]).toBeCloseTo(expected[b][t][v], 5);
  });

  test('huge logits stay finite (log-softmax with the max subtracted), value and gradient', () => {
    const big = tf.tensor3d([
      [
        [1e4, 0, -1e4],
        [0, 0, 0],
      ],
      [
        [5e3, 5e3, 0],
        [0, 0, 0],
      ],
    ]);
    const y = tf.tensor2d(
      [
        [-100, 1],
        [-100, 1],
      ],
      [2, 2],
      'int32',
    );
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => causalLmLoss(x, y))(big);
    expect(value.dataSync()[0]).toBeCloseTo((nll([1e4, 0, -1e4], 1) + nll([5e3, 5e3, 0], 1)) / 2, 2); // (1e4 + ln 2) / 2
    const g = Array.from(grad.dataSync());
    // softmax − onehot(1) over 2 scored tokens: (1, −1, 0) / 2 and (½, −½, 0) / 2; unscored rows 0
    [0.5, -0.5, 0, 0, 0, 0, 0.25, -0.25, 0, 0, 0, 0].forEach((want, i) => expect(g[i]).toBeCloseTo(want, 3)); // f32 ulp at 5e3 is 5e-4
  });

  test('matches tfjs autodiff of the composite logSoftmax form', () => {
    const x = tf.randomNormal([3, 5, 7], 0, 2, 'float32', 4);
    const y = tf.tensor2d(
      [
        [1, 2, -100, 6, 0],
        [3, 3, 3, -100, -100],
        [0, 1, 2, 3, 4],
      ],
      [3, 5],
      'int32',
    );
    const reference = (l: tf.Tensor) => {
      const logp = tf.logSoftmax(tf.reshape(tf.slice(l, [0, 0, 0], [3, 4, 7]), [12, 7]));
      const target = tf.reshape(tf.slice(y, [0, 1], [3, 4]), [12]);
      const mask = tf.cast(tf.notEqual(target, -100), 'float32');
      const picked = tf.sum(tf.mul(logp, tf.oneHot(tf.maximum(target, tf.scalar(0, 'int32')) as tf.Tensor1D, 7)), 1);
      return tf.div(tf.neg(tf.sum(tf.mul(picked, mask))), tf.sum(mask)) as tf.Scalar;
    };
    const ours = tf.valueAndGrad((l: tf.Tensor) => causalLmLoss(l, y))(x);
    const theirs = tf.valueAndGrad(reference)(x);
    expect(ours.value.dataSync()[0]).toBeCloseTo(theirs.value.dataSync()[0], 5);
    const a = ours.grad.dataSync();
    const b = theirs.grad.dataSync();
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 5);
  });

  test('mis-fitting shapes and out-of-range labels are errors naming them', () => {
    const catchIt = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e;
      }
      throw new Error('no error');
    };
    const shape = catchIt(() => causalLmLoss(logits(), tf.zeros([2, 2], 'int32')));
    expect(isMmftError(shape) && shape.code).toBe('E_SHAPE');
    expect((shape as Error).message).toContain('logits [2, 3, 4] and labels [2, 2]');
    const range = catchIt(() =>
      causalLmLoss(
        logits(),
        tf.tensor2d(
          [
            [0, 1, 4],
            [0, 0, 0],
          ],
          [2, 3],
          'int32',
        ),
      ),
    );
    expect(isMmftError(range) && range.code).toBe('E_DATA');
    expect((range as Error).message).toContain('labels[0][2] is 4');
    const count = catchIt(() => causalLmLoss(logits(), labels(), -1));
    expect(isMmftError(count) && count.code).toBe('E_INPUT');
  });

  test('no tensor is left behind by the loss, its gradient, or a failed call', () => {
    const x = logits();
    const y = labels();
    const before = tf.memory().numTensors;
    causalLmLoss(x, y).dispose();
    const { value, grad } = tf.valueAndGrad((l: tf.Tensor) => causalLmLoss(l, y, 7))(x);
    value.dispose();
    grad.dispose();
    expect(() =>
      causalLmLoss(
        x,
        tf.tensor2d(
          [
            [0, 9, 0],
            [0, 0, 0],
          ],
          [2, 3],
          'int32',
        ),
      ),
    ).toThrow();
    expect(tf.memory().numTensors).toBe(before + 1); // the bad labels tensor created in the expect
  });
});

// The loss against float64 cross-entropy and the fused kernel's contract; on plain cpu no kernel is
// registered, so this is the tfjs path (backend plugins re-run the part with their kernel).
describeNnSuite('cpu', { setup: () => tf.setBackend('cpu'), only: ['cross-entropy'] });
