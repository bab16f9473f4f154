// The FLOP count against a hand count of the small CLIP, and the ordering of the strategies.
import { describe, expect, test } from '@jest/globals';
import { clipShapeOf, trainStepFlops } from './flops';
import { quantile, summarize } from './stats';

const small = clipShapeOf(
  {
    projection_dim: 128,
    vision_config: { image_size: 64, patch_size: 8, hidden_size: 128, intermediate_size: 512, num_hidden_layers: 4 },
    text_config: { hidden_size: 128, intermediate_size: 512, num_hidden_layers: 4 },
  },
  32,
);

describe('trainStepFlops', () => {
  test('forward of one sample matches a hand count', () => {
    const layer = (t: number) => 8 * t * 128 * 128 + 4 * t * 128 * 512 + 4 * t * t * 128;
    const hand = 4 * layer(65) + 4 * layer(32) + 2 * 64 * 192 * 128 + 2 * 2 * 128 * 128 + 2 * 1 * 128;
    expect(trainStepFlops(small, 1, { vision: 'trained', text: 'trained' }).forward).toBe(hand);
  });

  test('full is about 3× forward; PEFT and a locked image tower cost less', () => {
    const full = trainStepFlops(small, 32, { vision: 'trained', text: 'trained' });
    const peft = trainStepFlops(small, 32, { vision: 'frozen-through', text: 'frozen-through' });
    const locked = trainStepFlops(small, 32, { vision: 'frozen', text: 'trained' });
    expect(full.step / full.forward).toBeGreaterThan(2.9);
    expect(full.step / full.forward).toBeLessThanOrEqual(3);
    expect(peft.step).toBeLessThan(full.step);
    expect(locked.step).toBeLessThan(peft.step);
    expect(full.forward).toBeCloseTo(32 * trainStepFlops(small, 1, { vision: 'trained', text: 'trained' }).forward, -6);
  });
});

describe('stats', () => {
  test('quantiles interpolate like numpy.percentile', () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5], 0.25)).toBe(2);
  });

  test('summarize gives median, extremes and relative IQR', () => {
    expect(summarize([10, 20, 30, 40, 50])).toEqual({ medianMs: 30, minMs: 10, maxMs: 50, iqrPercent: (100 * 20) / 30, samples: 5 });
  });
});
