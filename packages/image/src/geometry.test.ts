import { describe, expect, test } from '@jest/globals';
import { centerCropBox, randomResizedCropBox, shortestEdgeSize } from './geometry';
import { deriveSeed, SeededRng } from './rng';

describe('geometry (transformers / torchvision rules)', () => {
  test('shortest edge resize keeps the aspect ratio and truncates the long edge', () => {
    expect(shortestEdgeSize(640, 480, 224)).toEqual({ width: 298, height: 224 });
    expect(shortestEdgeSize(480, 640, 224)).toEqual({ width: 224, height: 298 });
    expect(shortestEdgeSize(50, 50, 224)).toEqual({ width: 224, height: 224 });
  });

  test('centre crop floors its offsets', () => {
    expect(centerCropBox(298, 224, 224)).toEqual({ left: 37, top: 0, width: 224, height: 224 });
    expect(centerCropBox(225, 227, 224)).toEqual({ left: 0, top: 1, width: 224, height: 224 });
  });

  test('random resized crop stays inside the image, respects scale, and is seeded', () => {
    for (let i = 0; i < 200; i++) {
      const box = randomResizedCropBox(120, 80, new SeededRng(deriveSeed(3, i)), [0.5, 1], [3 / 4, 4 / 3]);
      expect(box.left).toBeGreaterThanOrEqual(0);
      expect(box.top).toBeGreaterThanOrEqual(0);
      expect(box.left + box.width).toBeLessThanOrEqual(120);
      expect(box.top + box.height).toBeLessThanOrEqual(80);
      expect(box.width * box.height).toBeGreaterThan(0.45 * 120 * 80);
    }
    const a = randomResizedCropBox(64, 64, new SeededRng(9), [0.2, 1], [0.75, 1.33]);
    expect(randomResizedCropBox(64, 64, new SeededRng(9), [0.2, 1], [0.75, 1.33])).toEqual(a);
  });

  test('derived seeds differ between neighbouring indices and repeat for equal ones', () => {
    expect(deriveSeed(1, 0, 1)).not.toBe(deriveSeed(1, 0, 2));
    expect(deriveSeed(1, 1, 0)).not.toBe(deriveSeed(1, 0, 1));
    expect(deriveSeed(5, 2, 3)).toBe(deriveSeed(5, 2, 3));
  });
});
