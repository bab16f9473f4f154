import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { generate } from './generate';
import { logSoftmax, topKIndices } from './logits-processors';
import { SeededRandom } from './random';
import { HistoryModel, MarkovModel, logitsOf } from './toy-models.fixture';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const prompt = (row: number[]) => ({ inputIds: tf.tensor2d([row], [1, row.length], 'int32') });
const markov = (table: Record<number, Record<number, number>>) => new MarkovModel(6, (last) => logitsOf(6, table[last] ?? { 0: 1 }));
const L = Math.log;

// Ids: 0 = EOS, 1 = BOS, 2 = A, 3 = B, 4 = C, 5 = D.
// Greedy takes A (0.5) then EOS (0.4): 0.2. Beam search finds B C EOS: 0.4 · 0.9 · 1 = 0.36.
const TRAP = { 1: { 2: 0.5, 3: 0.4, 0: 0.1 }, 2: { 4: 0.3, 5: 0.3, 0: 0.4 }, 3: { 4: 0.9, 0: 0.1 }, 4: { 0: 1 }, 5: { 0: 1 } };

describe('beam search', () => {
  test('finds a sequence greedy misses; scores are sum(log p) / generated length (EOS counted)', async () => {
    const greedy = await generate(markov(TRAP), prompt([1]), { eosTokenId: 0, maxNewTokens: 5 });
    expect(greedy.sequences).toEqual([[2, 0]]);
    const beam = await generate(markov(TRAP), prompt([1]), { eosTokenId: 0, maxNewTokens: 5, numBeams: 2, numReturnSequences: 2 });
    // Finished: A EOS at step 2 (−1.609 / 2), then B C EOS and A C EOS at step 3; the best two stay.
    expect(beam.sequences).toEqual([
      [3, 4, 0],
      [2, 4, 0],
    ]);
    expect(beam.sequencesScores![0]).toBeCloseTo(L(0.36) / 3, 6);
    expect(beam.sequencesScores![1]).toBeCloseTo(L(0.15) / 3, 6);
  });

  test('lengthPenalty changes the ranking: 0 sums log-probs, 2 divides by length²', async () => {
    const run = (lengthPenalty: number) =>
      generate(markov(TRAP), prompt([1]), { eosTokenId: 0, maxNewTokens: 5, numBeams: 2, numReturnSequences: 2, lengthPenalty });
    const flat = await run(0);
    expect(flat.sequences).toEqual([
      [3, 4, 0],
      [2, 0],
    ]);
    expect(flat.sequencesScores![0]).toBeCloseTo(L(0.36), 6);
    expect(flat.sequencesScores![1]).toBeCloseTo(L(0.2), 6);
    const squared = await run(2);
    expect(squared.sequences).toEqual([
      [3, 4, 0],
      [2, 4, 0],
    ]);
    expect(squared.sequencesScores![0]).toBeCloseTo(L(0.36) / 9, 6);
    expect(squared.sequencesScores![1]).toBeCloseTo(L(0.15) / 9, 6);
  });

  // After step 2 two hypotheses are finished: EOS (−0.916 / 1) and A EOS (log 0.28 / 2 = −0.637), while B D runs on.
  const earlyTable = (pD: number) => ({
    1: { 0: 0.4, 2: 0.35, 3: 0.25 },
    2: { 0: 0.8, 4: 0.2 },
    3: { 5: pD, 0: 1 - pD },
    4: { 0: 1 },
    5: { 0: 1 },
  });
  const early = (pD: number, earlyStopping: boolean | 'never') =>
    generate(markov(earlyTable(pD)), prompt([1]), { eosTokenId: 0, maxNewTokens: 5, numBeams: 2, earlyStopping });

  test('earlyStopping true stops once numBeams hypotheses are finished; false continues while the heuristic allows', async () => {
    // B D has log(0.25 · 0.7) = −1.743; the heuristic bound −1.743 / 2 = −0.872 beats the worst finished −0.916, so
    // earlyStopping false goes on and B D EOS (−1.743 / 3 = −0.581) beats A EOS.
    const stopNow = await early(0.7, true);
    expect(stopNow.sequences).toEqual([[2, 0]]);
    expect(stopNow.sequencesScores![0]).toBeCloseTo(L(0.28) / 2, 6);
    const heuristic = await early(0.7, false);
    expect(heuristic.sequences).toEqual([[3, 5, 0]]);
    expect(heuristic.sequencesScores![0]).toBeCloseTo(L(0.175) / 3, 6);
  });

  test("earlyStopping 'never' bounds with maxLength when lengthPenalty > 0 and finds what false gives up on", async () => {
    // B D: log(0.25 · 0.62) = −1.864; false: −1.864 / 2 = −0.932 < −0.916 → stop with A EOS. 'never': −1.864 / 5 > −0.916
    // → go on; B D EOS scores −1.864 / 3 = −0.621 > −0.637.
    expect((await early(0.62, false)).sequences).toEqual([[2, 0]]);
    const never = await early(0.62, 'never');
    expect(never.sequences).toEqual([[3, 5, 0]]);
    expect(never.sequencesScores![0]).toBeCloseTo(L(0.155) / 3, 6);
  });

  test('numBeams 1 is greedy (HF dispatches it to greedy search)', async () => {
    const greedy = await generate(markov(TRAP), prompt([1]), { eosTokenId: 0, maxNewTokens: 5 });
    const one = await generate(markov(TRAP), prompt([1]), { eosTokenId: 0, maxNewTokens: 5, numBeams: 1 });
    expect(one).toEqual(greedy);
  });

  test('a batch: each input gets its own beams, scored alone', async () => {
    const both = await generate(
      markov(TRAP),
      { inputIds: tf.tensor2d([[1], [3]], [2, 1], 'int32') },
      { eosTokenId: 0, maxNewTokens: 5, numBeams: 2 },
    );
    const second = await generate(markov(TRAP), prompt([3]), { eosTokenId: 0, maxNewTokens: 5, numBeams: 2 });
    expect(both.sequences).toEqual([[3, 4, 0], second.sequences[0]]);
    expect(both.sequencesScores![1]).toBeCloseTo(second.sequencesScores![0]!, 9);
  });

  test('beam sampling is reproducible by seed and returns finished beams', async () => {
    const run = (seed: number) =>
      generate(markov(TRAP), prompt([1]), { eosTokenId: 0, maxNewTokens: 5, numBeams: 2, doSample: true, seed });
    const a = await run(1);
    expect(await run(1)).toEqual(a);
    expect(a.sequences[0]!.at(-1)).toBe(0);
  });
});

/**
 * transformers' BeamSearchScorer / BeamHypotheses (generation/beam_search.py before the 4.50 rewrite), written
 * directly on a next-logits function of the whole context: no cache, no vectorization.
 */
function legacyBeamSearch(
  next: (context: number[]) => number[],
  promptIds: number[],
  o: { beams: number; lp: number; early: boolean | 'never'; eos: number; maxLength: number; returns: number },
): { sequences: number[][]; scores: number[] } {
  const P = promptIds.length;
  let beams = Array.from({ length: o.beams }, (_, i) => ({ tokens: [...promptIds], score: i === 0 ? 0 : -1e9 }));
  const hyps: { tokens: number[]; score: number }[] = [];
  const add = (tokens: number[], sum: number, generated: number) => {
    const score = sum / generated ** o.lp;
    const worst = hyps.length ? Math.min(...hyps.map((h) => h.score)) : Infinity;
    if (hyps.length < o.beams || score > worst) {
      hyps.push({ tokens, score });
      hyps.sort((a, b) => b.score - a.score);
      if (hyps.length > o.beams) hyps.pop();
    }
  };
  const isDone = (best: number, curLen: number) => {
    if (hyps.length < o.beams) return false;
    if (o.early === true) return true;
    const length = o.early === 'never' && o.lp > 0 ? o.maxLength - P : curLen - P;
    return hyps[hyps.length - 1]!.score >= best / length ** o.lp;
  };
  let curLen = P;
  let done = false;
  for (;;) {
    const candidates = beams.flatMap((beam, b) => {
      const row = Float64Array.from(next(beam.tokens));
      logSoftmax(row);
      return Array.from(row, (lp, v) => ({ b, v, score: beam.score + lp }));
    });
    const top = topKIndices(
      Float64Array.from(candidates, (c) => c.score),
      2 * o.beams,
    ).map((i) => candidates[i]!);
    const nextBeams: typeof beams = [];
    top.forEach((c, rank) => {
      if (nextBeams.length === o.beams) return;
      const tokens = [...beams[c.b]!.tokens, c.v];
      if (c.v === o.eos) {
        if (rank < o.beams) add(tokens, c.score, curLen + 1 - P);
      } else nextBeams.push({ tokens, score: c.score });
    });
    done = done || isDone(top[0]!.score, curLen + 1);
    beams = nextBeams;
    curLen += 1;
    if (done || curLen >= o.maxLength) break;
  }
  if (!done) for (const beam of beams) add(beam.tokens, beam.score, curLen - P);
  const best = hyps.slice(0, o.returns);
  return { sequences: best.map((h) => h.tokens.slice(P)), scores: best.map((h) => h.score) };
}

describe('the vectorized beam search gives BeamSearchScorer results', () => {
  // Second-order tables (the next id depends on the last two), so a wrong cache reorder shows.
  const randomModel = (seed: number) => {
    const random = new SeededRandom(seed);
    const table = new Map<string, number[]>();
    return (context: readonly number[]) => {
      const key = context.slice(-2).join();
      if (!table.has(key))
        table.set(
          key,
          Array.from({ length: 6 }, () => 3 * random.next()),
        );
      return table.get(key)!;
    };
  };
  const cases = [
    { seed: 1, beams: 2, lp: 1, early: false },
    { seed: 2, beams: 3, lp: 1, early: false },
    { seed: 3, beams: 2, lp: 2, early: true },
    { seed: 4, beams: 3, lp: 0.5, early: 'never' },
    { seed: 5, beams: 2, lp: -0.5, early: false },
    { seed: 6, beams: 3, lp: 1, early: true },
    { seed: 7, beams: 2, lp: 1.5, early: 'never' },
  ] as const;
  test.each(cases)('seed $seed, $beams beams, lengthPenalty $lp, earlyStopping $early', async ({ seed, beams, lp, early }) => {
    const next = randomModel(seed);
    const promptIds = [1, 3];
    const expected = legacyBeamSearch((c) => next(c), promptIds, { beams, lp, early, eos: 0, maxLength: 8, returns: beams });
    const model = new HistoryModel(6, (context) => next(context));
    const out = await generate(model, prompt(promptIds), {
      eosTokenId: 0,
      maxNewTokens: 6,
      numBeams: beams,
      numReturnSequences: beams,
      lengthPenalty: lp,
      earlyStopping: early,
    });
    expect(out.sequences).toEqual(expected.sequences);
    out.sequencesScores!.forEach((s, i) => expect(s).toBeCloseTo(expected.scores[i]!, 5));
  });
});
