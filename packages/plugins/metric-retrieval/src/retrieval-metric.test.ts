// Retrieval metrics on hand-built matrices whose ranks are worked out by hand, ties included.
import { describe, expect, test } from '@jest/globals';
import { describeMetric } from '@mmft/core/testing';
import { retrievalMetric } from './plugin';
import { computeRanks } from './ranks';
import type { RetrievalInput } from '@mmft/core';
import { RetrievalMetric } from './retrieval-metric';
import { averagePrecision } from './summarize';

// 3 images, 2 captions each (texts 0,1 → image 0; 2,3 → 1; 4,5 → 2).
const textToImage = [0, 0, 1, 1, 2, 2];
const matrix = [
  [0.9, 0.1, 0.8, 0.0, 0.0, 0.0], // image 0: its text 0 ranks 1st, text 1 ranks 3rd
  [0.5, 0.0, 0.2, 0.3, 0.0, 0.0], // image 1: text 0 first (wrong), best own = text 3 at rank 2
  [0.0, 0.0, 0.0, 0.0, 0.4, 0.4], // image 2: a tie between its own texts
];

describe('ranks', () => {
  test('image→text uses the best-ranked caption of the image; text→image its image', () => {
    const r = computeRanks(3, 6, (i) => matrix[i]!, textToImage);
    expect(Array.from(r.i2t)).toEqual([1, 2, 1]);
    expect(Array.from(r.i2tAll[0]!)).toEqual([1, 3]);
    // text 2's column: [0.8, 0.2, 0] → its image 1 is 2nd; text 1: [0.1, 0, 0] → 1st
    expect(Array.from(r.t2i)).toEqual([1, 1, 2, 1, 1, 1]);
  });

  test('ties: equal scores rank by ascending index, so a tied lower index comes first', () => {
    // one text, tie between images 0 and 1; the ground truth is image 1 → rank 2
    expect(
      Array.from(
        computeRanks(
          2,
          2,
          (i) =>
            [
              [0.5, 0.1],
              [0.5, 0.9],
            ][i]!,
          [1, 0],
        ).t2i,
      ),
    ).toEqual([2, 2]);
    // image 0's caption is text 1, tied with text 0 → rank 2; image 1's caption text 0 → rank 1
    expect(
      Array.from(
        computeRanks(
          2,
          2,
          (i) =>
            [
              [0.7, 0.7],
              [0.9, 0.1],
            ][i]!,
          [1, 0],
        ).i2t,
      ),
    ).toEqual([2, 1]);
  });
});

describe('retrieval metric', () => {
  test('recalls in percent, MRR, median rank, mAP', () => {
    const m = new RetrievalMetric({ ks: [1, 5, 10] });
    m.update({ similarity: { matrix, textToImage } });
    const { i2t, t2i } = m.compute().groups! as Record<string, Record<string, Record<string, number>>>;
    expect(i2t!.all).toMatchObject({ 'R@5': 100, 'R@10': 100, median_rank: 1 }); // 0-based [0, 1, 0] → floor(0) + 1
    expect(i2t!.all!['R@1']).toBeCloseTo((100 * 2) / 3, 12);
    expect(i2t!.all!.mrr).toBeCloseTo((1 + 1 / 2 + 1) / 3, 12);
    // image 0: own texts at ranks 1, 3; image 1: ranks 2 (text 3), 3 (text 2); image 2: 1, 2
    expect(i2t!.all!.mAP).toBeCloseTo(((1 / 1 + 2 / 3) / 2 + (1 / 2 + 2 / 3) / 2 + (1 + 1) / 2) / 3, 12);
    expect(t2i!.all!['R@1']).toBeCloseTo((100 * 5) / 6, 12);
    expect(t2i!.all!.mrr).toBeCloseTo((5 + 1 / 2) / 6, 12);
    expect(t2i!.all!.mAP).toBeCloseTo(t2i!.all!.mrr!, 12); // one relevant image: AP = 1/rank
  });

  test('embeddings are compared by cosine (scale does not matter)', () => {
    const m = new RetrievalMetric({ ks: [1] });
    m.update({
      images: [
        { id: 'a', embedding: [10, 0] },
        { id: 'b', embedding: [0, 0.1] },
      ],
    });
    m.update({
      texts: [
        { imageId: 'a', embedding: [3, 1] },
        { imageId: 'b', embedding: [1, 5] },
      ],
    });
    expect(m.compute().scores).toMatchObject({ 'i2t_R@1': 100, 't2i_R@1': 100 });
  });

  test('bad input is refused', () => {
    const m = new RetrievalMetric({ ks: [1] });
    m.update({ similarity: { matrix: [[1, 2]], textToImage: [0, 3] } });
    expect(() => m.compute()).toThrow(/text 1 points to image 3/);
    const z = new RetrievalMetric({ ks: [1] });
    expect(() => z.update({ images: [{ id: 'a', embedding: [0, 0] }] })).toThrow(/zero/);
    const orphan = new RetrievalMetric({ ks: [1] });
    orphan.update({ similarity: { matrix: [[1], [2]], textToImage: [0] } });
    expect(() => orphan.compute()).toThrow(/image 1 has no caption/);
  });

  test('average precision', () => {
    expect(averagePrecision([1, 2])).toBe(1);
    expect(averagePrecision([3, 1])).toBeCloseTo((1 + 2 / 3) / 2, 15);
  });
});

const updates: RetrievalInput[] = [
  {
    kind: 'retrieval',
    images: [
      { id: 'a', embedding: [1, 0, 0] },
      { id: 'b', embedding: [0, 1, 0] },
    ],
  },
  {
    kind: 'retrieval',
    texts: [
      { imageId: 'a', embedding: [1, 0.2, 0] },
      { imageId: 'b', embedding: [0.3, 1, 0] },
      { imageId: 'b', embedding: [1, 0, 0.1] },
    ],
  },
];
describeMetric(retrievalMetric, { config: {}, updates });
