import { describe, expect, test } from '@jest/globals';
import {
  banEosBelow,
  logSoftmax,
  logitsProcessors,
  minP,
  noRepeatNgram,
  repetitionPenalty,
  softmax,
  temperature,
  topK,
  topKIndices,
  topP,
} from './logits-processors';
import { SeededRandom } from './random';
import { resolveGenerationOptions } from './options';

const row = (...values: number[]) => Float64Array.from(values);
const list = (x: Float64Array) => Array.from(x);
const NEG = -Infinity;

describe('each processor on a hand-checked row', () => {
  test('repetitionPenalty divides positive and multiplies negative logits, once per id', () => {
    const s = row(2, -1, 0.5, 3);
    repetitionPenalty(s, [0, 1, 1, 1], 2);
    expect(list(s)).toEqual([1, -2, 0.5, 3]);
  });

  test('noRepeatNgram bans the ids that would repeat an n-gram (prompt included)', () => {
    // History 1 2 3 1 2: the last bigram prefix is (2); (2, 3) occurred, so 3 is banned (n = 2).
    const two = row(0, 0, 0, 0, 0);
    noRepeatNgram(two, [1, 2, 3, 1, 2], 2);
    expect(list(two)).toEqual([0, 0, 0, NEG, 0]);
    // n = 3: prefix (1, 2) was followed by 3 → banned; prefix (2, 3) would ban 1 but is not the current prefix.
    const three = row(0, 0, 0, 0, 0);
    noRepeatNgram(three, [1, 2, 3, 1, 2], 3);
    expect(list(three)).toEqual([0, 0, 0, NEG, 0]);
    // Too short a row bans nothing; n = 1 bans every id seen.
    const short = row(0, 0, 0);
    noRepeatNgram(short, [1], 3);
    expect(list(short)).toEqual([0, 0, 0]);
    const one = row(0, 0, 0);
    noRepeatNgram(one, [2, 0], 1);
    expect(list(one)).toEqual([NEG, 0, NEG]);
  });

  test('banEosBelow sets every EOS id to −∞ while the row is shorter than minLength', () => {
    const s = row(1, 2, 3);
    banEosBelow(s, [5, 5], 3, [0, 2]);
    expect(list(s)).toEqual([NEG, 2, NEG]);
    const long = row(1, 2, 3);
    banEosBelow(long, [5, 5, 5], 3, [0, 2]);
    expect(list(long)).toEqual([1, 2, 3]);
  });

  test('temperature divides', () => {
    const s = row(1, -2, 4);
    temperature(s, 2);
    expect(list(s)).toEqual([0.5, -1, 2]);
  });

  test('topK keeps the k largest and anything tied with the k-th', () => {
    const s = row(1, 5, 3, 3, 0);
    topK(s, 2);
    expect(list(s)).toEqual([NEG, 5, 3, 3, NEG]);
    const keepTwo = row(4, 1, 0);
    topK(keepTwo, 1, 2);
    expect(list(keepTwo)).toEqual([4, 1, NEG]);
  });

  test('topP keeps the most likely ids that reach p; a cumulative mass exactly 1 − p goes', () => {
    // Uniform over 4 ids: probabilities are exactly 0.25, ascending cumsum 0.25, 0.5, 0.75, 1 (ties in id order).
    const p75 = row(0, 0, 0, 0);
    topP(p75, 0.75); // remove cum ≤ 0.25: the first id only (HF's `<=`; `<` would remove none)
    expect(list(p75).map(Number.isFinite)).toEqual([false, true, true, true]);
    // probs 0.6, 0.3, 0.1: ascending cumsum 0.1, 0.4, 1. p = 0.65 removes cum ≤ 0.35 → id 2 only; p = 0.55 also id 1.
    const logits = () => row(Math.log(0.6), Math.log(0.3), Math.log(0.1));
    const p65 = logits();
    topP(p65, 0.65);
    expect(list(p65).map(Number.isFinite)).toEqual([true, true, false]);
    const p55 = logits();
    topP(p55, 0.55);
    expect(list(p55).map(Number.isFinite)).toEqual([true, false, false]);
    const keepTwo = logits();
    topP(keepTwo, 0, 2); // everything may go but min_tokens_to_keep = 2 keeps the top two
    expect(list(keepTwo).map(Number.isFinite)).toEqual([true, true, false]);
  });

  test('topP equals the plain definition (sort ids ascending, cumsum of softmax, remove ≤ 1 − p) on random rows with ties', () => {
    const random = new SeededRandom(3);
    for (let trial = 0; trial < 200; trial++) {
      // Scores on a coarse grid so that ties happen; some ids already −∞.
      const s = Float64Array.from({ length: 12 }, () => (random.next() < 0.15 ? NEG : Math.floor(random.next() * 6) / 2));
      const p = random.next();
      const keep = 1 + Math.floor(random.next() * 3);
      const order = Array.from(s.keys()).sort((a, b) => s[a]! - s[b]! || a - b);
      const probs = softmax(s);
      const expected = Float64Array.from(s);
      let cumulative = 0;
      order.forEach((id, rank) => {
        cumulative += probs[id]!;
        if (cumulative <= 1 - p && rank < order.length - keep) expected[id] = NEG;
      });
      const actual = Float64Array.from(s);
      topP(actual, p, keep);
      expect(list(actual)).toEqual(list(expected));
    }
  });

  test('topKIndices: largest first, lower index first among ties', () => {
    expect(topKIndices([1, 3, 3, 2, NEG], 3)).toEqual([1, 2, 3]);
    expect(topKIndices([NEG, NEG], 2)).toEqual([0, 1]);
  });

  test('minP drops ids below minP × the top probability', () => {
    // probs 0.5, 0.25, 0.125, 0.125; minP 0.3 → threshold 0.15.
    const s = row(Math.log(0.5), Math.log(0.25), Math.log(0.125), Math.log(0.125));
    minP(s, 0.3);
    expect(list(s).map(Number.isFinite)).toEqual([true, true, false, false]);
    const all = row(0, -10, -20);
    minP(all, 1, 2);
    expect(list(all).map(Number.isFinite)).toEqual([true, true, false]);
  });

  test('softmax and logSoftmax', () => {
    const p = softmax([Math.log(1), Math.log(3), NEG]);
    expect(p[0]).toBeCloseTo(0.25, 12);
    expect(p[1]).toBeCloseTo(0.75, 12);
    expect(p[2]).toBe(0);
    const s = row(Math.log(2), Math.log(6));
    logSoftmax(s);
    expect(s[0]).toBeCloseTo(Math.log(0.25), 12);
    expect(s[1]).toBeCloseTo(Math.log(0.75), 12);
  });
});

describe('the processor list in _get_logits_processor order', () => {
  const lengths = { maxLength: 50, minLength: 0 };

  test('greedy and beam search leave out temperature, top-k, top-p and min-p', () => {
    const s = resolveGenerationOptions({}, { temperature: 0.5, topK: 1, topP: 0.1, minP: 0.9 });
    expect(logitsProcessors(s, lengths)).toHaveLength(0);
    const beam = resolveGenerationOptions({}, { numBeams: 2, temperature: 0.5, topK: 1, repetitionPenalty: 1.5 });
    expect(logitsProcessors(beam, lengths)).toHaveLength(1);
  });

  test('penalty before temperature before top-k before top-p before min-p (each step changes the next)', () => {
    const s = resolveGenerationOptions({}, { doSample: true, repetitionPenalty: 2, temperature: 0.5, topK: 3, topP: 0.6, minP: 0.5 });
    const scores = row(2, 1.5, 1, 0.2);
    for (const process of logitsProcessors(s, lengths)) process(scores, [0]);
    // Penalty: id 0 → 1 (2 / 2). Temperature 0.5: [2, 3, 2, 0.4]. Top-3: id 3 goes. Top-p 0.6 on softmax of
    // [2, 3, 2] = [0.212, 0.576, 0.212]: ascending cumsum 0.212, 0.424, 1 → remove ≤ 0.4: the first 0.212 (id 0).
    // Min-p 0.5 of top 0.731 (softmax of [3, 2]) = 0.366: id 2 has 0.269 → removed.
    expect(list(scores)).toEqual([NEG, 3, NEG, NEG]);
    // Min-p before temperature would keep id 2: softmax of [1.5, 1] gives it 0.378 > 0.5 × 0.622.
    const other = row(2, 1.5, 1, 0.2);
    repetitionPenalty(other, [0], 2);
    topK(other, 3);
    topP(other, 0.6);
    minP(other, 0.5);
    temperature(other, 0.5);
    expect(list(other)).toEqual([NEG, 3, 2, NEG]);
  });

  test('beam sampling keeps at least max(2, #EOS + 1) ids in its warpers', () => {
    const s = resolveGenerationOptions({}, { doSample: true, numBeams: 2, topK: 1, eosTokenId: [0, 1] });
    const scores = row(5, 4, 3, 2);
    for (const process of logitsProcessors(s, lengths)) process(scores, []);
    expect(list(scores)).toEqual([5, 4, 3, NEG]);
  });
});
