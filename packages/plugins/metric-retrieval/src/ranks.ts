// Ranks of the ground truth in both retrieval directions from a similarity matrix given row by
// row (one row per image, one column per text), so a 5k × 25k evaluation never holds the matrix.
// Ranking follows VSE++ (fartashf/vsepp evaluation.py `i2t`/`t2i`): image→text is a hit at the
// best-ranked caption of the image. Ties: equal scores are ordered by ascending index (a stable
// descending sort), so a tied wrong item with a lower index ranks ahead of the ground truth.

/** 1-based ranks: `i2t[i]` best rank of image i's captions, `i2tAll[i]` ranks of all of them. */
export interface RetrievalRanks {
  readonly i2t: Int32Array;
  readonly i2tAll: readonly Int32Array[];
  readonly t2i: Int32Array;
}

/** True when (score a at index ia) ranks ahead of (score b at index ib). */
const ahead = (a: number, ia: number, b: number, ib: number): boolean => a > b || (a === b && ia < ib);

/**
 * Rank everything in one pass over the rows.
 *
 * @example
 * const r = computeRanks(2, 2, (i) => [[0.9, 0.1], [0.2, 0.8]][i], [0, 1]); // r.i2t = [1, 1]
 */
export function computeRanks(
  nImages: number,
  nTexts: number,
  rowAt: (image: number) => ArrayLike<number>,
  textToImage: ArrayLike<number>,
): RetrievalRanks {
  const captionsOf: number[][] = Array.from({ length: nImages }, () => []);
  for (let t = 0; t < nTexts; t++) captionsOf[textToImage[t]!]!.push(t);
  // t2i needs each text's score with its own image before scanning the other rows.
  const gtScore = new Float64Array(nTexts);
  for (let i = 0; i < nImages; i++) {
    const row = rowAt(i);
    for (const t of captionsOf[i]!) gtScore[t] = row[t]!;
  }
  const t2iAhead = new Int32Array(nTexts);
  const i2t = new Int32Array(nImages);
  const i2tAll: Int32Array[] = [];
  for (let i = 0; i < nImages; i++) {
    const row = rowAt(i);
    const gts = captionsOf[i]!;
    const before = new Int32Array(gts.length);
    for (let t = 0; t < nTexts; t++) {
      const s = row[t]!;
      for (let g = 0; g < gts.length; g++) if (ahead(s, t, row[gts[g]!]!, gts[g]!)) before[g]! += 1;
      const own = textToImage[t]!;
      if (own !== i && ahead(s, i, gtScore[t]!, own)) t2iAhead[t]! += 1;
    }
    const all = before.map((b) => b + 1);
    i2tAll.push(all);
    i2t[i] = all.length === 0 ? 0 : Math.min(...all);
  }
  return { i2t, i2tAll, t2i: t2iAhead.map((b) => b + 1) };
}
