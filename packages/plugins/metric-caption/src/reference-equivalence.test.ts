// The optimised scorers (interned n-gram ids, flat typed arrays) against a line-by-line
// transcription of pycocoevalcap (bleu_scorer.py, cider_scorer.py, rouge.py) with string-keyed
// Maps, on random captions: every corpus and per-item number must be the same double.
import { describe, expect, test } from '@jest/globals';
import { CaptionMetric, type CaptionUpdate } from './caption-metric';
import { numpyMean } from './numpy-sum';
import { whitespaceTokenize } from './tokenizers';

/** precook: one dict for all orders (k outer, i inner), keyed by the n-gram; Map keeps insertion order. */
function precook(words: readonly string[], n = 4): Map<string, { k: number; count: number }> {
  const counts = new Map<string, { k: number; count: number }>();
  for (let k = 1; k <= n; k++) {
    for (let i = 0; i + k <= words.length; i++) {
      const key = JSON.stringify(words.slice(i, i + k));
      const entry = counts.get(key) ?? { k, count: 0 };
      entry.count += 1;
      counts.set(key, entry);
    }
  }
  return counts;
}

function referenceBleu(tests: string[][], refs: string[][][]): { corpus: number[]; bleu4: number[] } {
  const [tiny, small] = [1e-15, 1e-9];
  const total = { testlen: 0, reflen: 0, guess: [0, 0, 0, 0], correct: [0, 0, 0, 0] };
  const bleu4: number[] = [];
  tests.forEach((test, t) => {
    const maxcounts = new Map<string, number>();
    for (const ref of refs[t]!) for (const [g, { count }] of precook(ref)) maxcounts.set(g, Math.max(maxcounts.get(g) ?? 0, count));
    const testlen = test.length;
    const reflen = refs[t]!.map((r) => r.length).reduce((a, l) => {
      const [da, dl] = [Math.abs(a - testlen), Math.abs(l - testlen)];
      return dl < da || (dl === da && l < a) ? l : a;
    });
    const guess = [1, 2, 3, 4].map((k) => Math.max(0, testlen - k + 1));
    const correct = [0, 0, 0, 0];
    for (const [g, { k, count }] of precook(test)) correct[k - 1]! += Math.min(maxcounts.get(g) ?? 0, count);
    let bleu = 1;
    let b4 = 0;
    for (let k = 0; k < 4; k++) {
      bleu *= (correct[k]! + tiny) / (guess[k]! + small);
      b4 = bleu ** (1 / (k + 1));
    }
    const ratio = (testlen + tiny) / (reflen + small);
    bleu4.push(ratio < 1 ? b4 * Math.exp(1 - 1 / ratio) : b4);
    total.testlen += testlen;
    total.reflen += reflen;
    for (let k = 0; k < 4; k++) {
      total.guess[k]! += guess[k]!;
      total.correct[k]! += correct[k]!;
    }
  });
  const corpus: number[] = [];
  let bleu = 1;
  for (let k = 0; k < 4; k++) {
    bleu *= (total.correct[k]! + tiny) / (total.guess[k]! + small);
    corpus.push(bleu ** (1 / (k + 1)));
  }
  const ratio = (total.testlen + tiny) / (total.reflen + small);
  return { corpus: ratio < 1 ? corpus.map((b) => b * Math.exp(1 - 1 / ratio)) : corpus, bleu4 };
}

function referenceCider(tests: string[][], refs: string[][][], sigma = 6): number[] {
  const crefs = refs.map((rs) => rs.map((r) => precook(r)));
  const ctest = tests.map((t) => precook(t));
  const documentFrequency = new Map<string, number>();
  for (const rs of crefs) {
    for (const g of new Set(rs.flatMap((r) => [...r.keys()]))) documentFrequency.set(g, (documentFrequency.get(g) ?? 0) + 1);
  }
  const refLen = Math.log(crefs.length);
  const counts2vec = (cnts: Map<string, { k: number; count: number }>) => {
    const vec = [0, 1, 2, 3].map(() => new Map<string, number>());
    const norm = [0, 0, 0, 0];
    let length = 0;
    for (const [g, { k, count }] of cnts) {
      const df = Math.log(Math.max(1, documentFrequency.get(g) ?? 0));
      const v = count * (refLen - df);
      vec[k - 1]!.set(g, v);
      norm[k - 1]! += v * v;
      if (k === 2) length += count;
    }
    return { vec, norm: norm.map(Math.sqrt), length };
  };
  return ctest.map((test, t) => {
    const hyp = counts2vec(test);
    const score = [0, 0, 0, 0];
    for (const refCounts of crefs[t]!) {
      const ref = counts2vec(refCounts);
      const delta = hyp.length - ref.length;
      for (let n = 0; n < 4; n++) {
        let val = 0;
        for (const [g, vh] of hyp.vec[n]!) {
          const vr = ref.vec[n]!.get(g) ?? 0;
          val += Math.min(vh, vr) * vr;
        }
        if (hyp.norm[n] !== 0 && ref.norm[n] !== 0) val /= hyp.norm[n]! * ref.norm[n]!;
        score[n]! += val * Math.pow(Math.E, -(delta ** 2) / (2 * sigma ** 2));
      }
    }
    return ((score[0]! + score[1]! + score[2]! + score[3]!) / 4 / crefs[t]!.length) * 10;
  });
}

/** rouge.py my_lcs with its full table, then calc_score. */
function referenceRouge(candidate: string[], refs: string[][]): number {
  const lcs = (a: string[], b: string[]): number => {
    const [string, sub] = a.length < b.length ? [b, a] : [a, b];
    const lengths = Array.from({ length: string.length + 1 }, () => new Array<number>(sub.length + 1).fill(0));
    for (let j = 1; j <= sub.length; j++) {
      for (let i = 1; i <= string.length; i++) {
        lengths[i]![j] = string[i - 1] === sub[j - 1] ? lengths[i - 1]![j - 1]! + 1 : Math.max(lengths[i - 1]![j]!, lengths[i]![j - 1]!);
      }
    }
    return lengths[string.length]![sub.length]!;
  };
  const tokenC = candidate.length === 0 ? [''] : candidate;
  const prec: number[] = [];
  const rec: number[] = [];
  for (const reference of refs) {
    const tokenR = reference.length === 0 ? [''] : reference;
    const l = lcs(tokenR, tokenC);
    prec.push(l / tokenC.length);
    rec.push(l / tokenR.length);
  }
  const [p, r] = [Math.max(...prec), Math.max(...rec)];
  return p !== 0 && r !== 0 ? ((1 + 1.2 ** 2) * p * r) / (r + 1.2 ** 2 * p) : 0;
}

/** mulberry32, so a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Captions over a small vocabulary, so n-grams repeat within and across captions; some empty. */
function randomUpdates(seed: number, images: number, maxLength: number): CaptionUpdate[] {
  const rand = prng(seed);
  const vocab = Array.from({ length: 25 }, (_, i) => `w${i}`);
  const caption = (): string =>
    Array.from(
      { length: rand() < 0.05 ? 0 : 1 + Math.floor(rand() * maxLength) },
      () => vocab[Math.floor(rand() ** 2 * vocab.length)]!,
    ).join(' ');
  return Array.from({ length: images }, (_, i) => ({
    id: `img${i}`,
    prediction: caption(),
    references: Array.from({ length: 1 + Math.floor(rand() * 6) }, caption),
  }));
}

describe('optimised scorers vs a plain transcription of pycocoevalcap', () => {
  // Long captions (up to 150 tokens) take the cooking path for long sentences.
  for (const [seed, images, maxLength] of [
    [1, 300, 16],
    [2, 500, 16],
    [3, 2, 16],
    [4, 80, 150],
  ] as const) {
    test(`seed ${seed}: ${images} random images of ≤ ${maxLength} tokens, bit-identical scores`, () => {
      const updates = randomUpdates(seed, images, maxLength);
      const tests = updates.map((u) => whitespaceTokenize(u.prediction));
      const refs = updates.map((u) => u.references.map(whitespaceTokenize));
      const bleu = referenceBleu(tests, refs);
      const cider = referenceCider(tests, refs);
      const rouge = tests.map((t, i) => referenceRouge(t, refs[i]!));

      const metric = new CaptionMetric({ tokenizer: 'none', sigma: 6 });
      // Streamed in uneven batches, so the n-gram tables grow between updates.
      for (let at = 0; at < updates.length; at += 7 + (at % 50)) metric.update(updates.slice(at, at + 7 + (at % 50)));
      const report = metric.compute();
      const [bleu1, bleu2, bleu3, bleu4] = bleu.corpus;
      expect(report.scores).toEqual({ bleu1, bleu2, bleu3, bleu4, rougeL: numpyMean(rouge), cider: numpyMean(cider) });
      updates.forEach((u, i) => {
        const item = report.perItem![u.id]!;
        expect([item.cider, item.rougeL, item.bleu4]).toEqual([cider[i], rouge[i], bleu.bleu4[i]]);
      });
    });
  }
});
