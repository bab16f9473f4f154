import { describe, expect, test } from '@jest/globals';
import { StatsAccumulator } from './stats';

const image = (width: number, height: number) => ({ hash: `${width}x${height}`, width, height, format: 'png' });

describe('StatsAccumulator', () => {
  test('percentiles of large images and long texts are not clamped', () => {
    const stats = new StatsAccumulator('a.jsonl');
    for (const w of [6000, 6000, 6000, 8192, 100_000]) stats.addImage(image(w, 4000));
    stats.addTexts(['x'.repeat(5000), 'y'.repeat(5000), 'z'.repeat(12_345)]);
    const result = stats.result();
    expect(result.images.width).toEqual({ min: 6000, mean: 25238.4, p50: 6000, p95: 100_000, max: 100_000 });
    expect(result.images.height).toMatchObject({ p50: 4000, p95: 4000 });
    expect(result.texts.chars).toMatchObject({ p50: 5000, p95: 12_345, max: 12_345 });
  });

  test('small values stay exact', () => {
    const stats = new StatsAccumulator('a.jsonl');
    for (const w of [1, 2, 3, 4, 4095]) stats.addImage(image(w, w));
    expect(stats.result().images.width).toEqual({ min: 1, mean: 821, p50: 3, p95: 4095, max: 4095 });
  });
});
