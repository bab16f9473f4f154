// The probe's pure parts against hand-computed values: the derangement is a seeded permutation with
// no fixed point, the blank image decodes to the mean colour (≈ 0 after normalisation), agreement
// compares normalised answers over shared ids, and the attention mass of a hand-written batch.
import { describe, expect, test } from '@jest/globals';
import { preprocessResolved } from '@mmft/image';
import type { Example } from '@mmft/core';
import { agreement, blankImage, derangement, imageAttentionSums, meanMass, withCondition } from './conditions';

describe('derangement', () => {
  test('a permutation with no fixed point, the same for the same seed, another for another seed', () => {
    for (const n of [2, 3, 7, 50]) {
      const p = derangement(n, 3)!;
      expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
      p.forEach((j, i) => expect(j).not.toBe(i));
      expect(derangement(n, 3)).toEqual(p);
    }
    expect(derangement(2, 0)).toEqual([1, 0]);
    expect(derangement(50, 1)).not.toEqual(derangement(50, 2));
    expect(derangement(1, 0)).toBeUndefined();
  });
});

describe('blankImage', () => {
  test('decodes to a uniform image of round(mean × 255), so the normalised pixels are within 1/255/std of 0', async () => {
    const mean = [0.48145466, 0.4578275, 0.40821073] as const;
    const std = [0.26862954, 0.26130258, 0.27577711] as const;
    const pixels = await preprocessResolved(blankImage({ size: 8, cropSize: 8, mean, std }), {
      size: 8,
      cropSize: 8,
      mean: [...mean],
      std: [...std],
    } as never);
    expect(pixels.data.length).toBe(3 * 64);
    for (let c = 0; c < 3; c++) {
      const expected = (Math.round(mean[c] * 255) / 255 - mean[c]) / std[c];
      for (let p = 0; p < 64; p++) expect(pixels.data[c * 64 + p]).toBeCloseTo(expected, 5);
    }
  });
});

describe('withCondition', () => {
  const ex = (id: string, file: string): Example => ({ task: 'caption', id, captions: [id], image: { kind: 'file', path: file } });
  const examples = [ex('a', 'a.png'), ex('b', 'b.png'), ex('c', 'c.png')];
  const blank = blankImage({ size: 4, cropSize: 4, mean: [0, 0, 0], std: [1, 1, 1] });
  test('true keeps, blank replaces every image, shuffled takes image order[i]; texts and ids stay', () => {
    expect(withCondition(examples, 'true', blank, undefined)).toEqual(examples);
    expect(withCondition(examples, 'blank', blank, undefined).map((e) => e.image)).toEqual([blank, blank, blank]);
    const shuffled = withCondition(examples, 'shuffled', blank, [2, 0, 1]);
    expect(shuffled.map((e) => (e.image as { path: string }).path)).toEqual(['c.png', 'a.png', 'b.png']);
    expect(shuffled.map((e) => e.id)).toEqual(['a', 'b', 'c']);
  });
});

describe('agreement', () => {
  test('normalised equality over the ids both have', () => {
    const truth = new Map([
      ['a', 'a red  circle'],
      ['b', 'two'],
      ['c', 'blue'],
    ]);
    expect(
      agreement(
        truth,
        new Map([
          ['a', ' A red circle'],
          ['b', 'three'],
          ['c', 'blue'],
        ]),
      ),
    ).toBeCloseTo(2 / 3, 12);
    expect(agreement(truth, new Map([['b', 'two']]))).toBe(1);
    expect(agreement(truth, new Map())).toBeNaN();
  });
});

describe('imageAttentionSums', () => {
  test('mass on attended image keys, averaged over text queries, heads and rows; padding and image queries left out', () => {
    // Row 0: positions [img, img, text, text]; row 1: [pad, img, text, text] (pad masked out).
    const image = [
      [true, true, false, false],
      [false, true, false, false],
    ];
    const mask = [
      [1, 1, 1, 1],
      [0, 1, 1, 1],
    ];
    const q = (a: number, b: number, c: number, d: number) => [a, b, c, d];
    const head = (rows: number[][]) => rows;
    const layer0 = [
      [
        head([q(1, 0, 0, 0), q(0.5, 0.5, 0, 0), q(0.2, 0.3, 0.5, 0), q(0.1, 0.1, 0.4, 0.4)]),
        head([q(1, 0, 0, 0), q(0.5, 0.5, 0, 0), q(0, 0, 1, 0), q(0, 0.5, 0.25, 0.25)]),
      ],
      [head([q(0, 0, 0, 0), q(0, 1, 0, 0), q(0.3, 0.6, 0.1, 0), q(0.9, 0.05, 0.05, 0)])],
    ];
    const sums = imageAttentionSums([layer0], image, mask);
    // Text queries: row 0 head 0: 0.5, 0.2; head 1: 0, 0.5; row 1: 0.6 (key 0 is padding), 0.05.
    expect(sums.counts).toEqual([6]);
    expect(sums.sums[0]).toBeCloseTo(0.5 + 0.2 + 0 + 0.5 + 0.6 + 0.05, 12);
    expect(meanMass(sums)[0]).toBeCloseTo(1.85 / 6, 12);
    // Accumulating a second batch adds to the same layer.
    imageAttentionSums([[[head([q(1, 0, 0, 0), q(0.5, 0.5, 0, 0), q(1, 0, 0, 0), q(0, 0, 0, 1)])]]], [image[0]!], [mask[0]!], sums);
    expect(sums.counts).toEqual([8]);
    expect(meanMass(sums)[0]).toBeCloseTo(2.85 / 8, 12);
  });
});
