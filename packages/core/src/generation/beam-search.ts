// Beam search and beam sampling as transformers' vectorized `_beam_search` (generation/utils.py, since
// 4.50; it replaced BeamSearchScorer of generation/beam_search.py with the same results): per step
// log_softmax, then the processors, plus each beam's running score; the best K = max(2, 1 + #EOS) ×
// numBeams continuations (or K drawn without replacement when sampling); those of the top numBeams that
// hit a stopping criterion become finished hypotheses scored sum(logprobs) / generatedLength ** lengthPenalty
// (generated length counts the EOS, never the prompt); the best numBeams unfinished ones run on, and
// the cache follows them. `_check_early_stop_heuristic` and `_beam_search_has_unfinished_sequences` decide
// when to stop.
import { logSoftmax, logitsProcessors, softmax, topKIndices } from './logits-processors';
import { SeededRandom, sampleWithoutReplacement } from './random';
import type { DecodingRunner, Prompt } from './runner';
import type { GenerationLengths, GenerationSettings } from './types';

/** HF's stand-in for −∞ in beam scores (a finite number, so sums stay ordered). */
const BLOCKED = -1e9;

interface Beam {
  readonly tokens: number[];
  readonly score: number;
}

/** The returned hypotheses: per input, the best numReturnSequences (new ids only) and their scores. */
export interface BeamSearchResult {
  readonly sequences: number[][];
  readonly scores: number[];
}

export async function beamSearch(
  runner: DecodingRunner,
  prompt: Prompt,
  s: GenerationSettings,
  lengths: GenerationLengths,
  isDone: (history: readonly number[]) => boolean,
): Promise<BeamSearchResult> {
  const beams = s.numBeams;
  const processors = logitsProcessors(s, lengths);
  const random = s.doSample ? new SeededRandom(s.seed) : undefined;
  const keep = Math.max(2, 1 + s.eosTokenIds.length) * beams;
  const promptLength = prompt.ids[0]!.length;
  const { lengthPenalty: lp, earlyStopping } = s;
  // Beam 0 starts at 0 and the copies at −1e9, so the first step does not pick one token `beams` times.
  const running: Beam[][] = prompt.ids.map((ids) =>
    Array.from({ length: beams }, (_, i) => ({ tokens: [...ids], score: i === 0 ? 0 : BLOCKED })),
  );
  const finished: Beam[][] = prompt.ids.map(() => []);
  const improvable = prompt.ids.map(() => true);
  let curLen = promptLength;
  let logits = await runner.prefill();
  for (;;) {
    const vocab = runner.vocabSize;
    const sourceRows: number[] = [];
    let allHit = true;
    for (let b = 0; b < prompt.batch; b++) {
      const scores = new Float64Array(beams * vocab);
      for (let i = 0; i < beams; i++) {
        const row = Float64Array.from(logits.subarray((b * beams + i) * vocab, (b * beams + i + 1) * vocab));
        logSoftmax(row);
        for (const process of processors) process(row, running[b]![i]!.tokens);
        for (let v = 0; v < vocab; v++) scores[i * vocab + v] = row[v]! + running[b]![i]!.score;
      }
      const picked = random ? sampleWithoutReplacement(softmax(scores), keep, random) : topKIndices(scores, keep);
      const candidates = picked.map((index, rank) => {
        const beam = Math.floor(index / vocab);
        const tokens = [...running[b]![beam]!.tokens, index % vocab];
        return { beam, tokens, score: scores[index]!, hit: isDone(tokens), rank };
      });
      if (candidates.some((c) => !c.hit)) allHit = false;

      // Finished hypotheses: only the top `beams` candidates may enter, and none once the batch item is
      // full under earlyStopping true or can no longer improve (`_update_finished_beams`).
      const full = finished[b]!.length === beams;
      if (improvable[b] && !(full && earlyStopping === true)) {
        const generatedLength = curLen + 1 - promptLength;
        for (const c of candidates) {
          if (c.rank >= beams || !c.hit) continue;
          finished[b]!.push({ tokens: c.tokens, score: c.score / generatedLength ** lp });
        }
        finished[b]!.sort((x, y) => y.score - x.score);
        finished[b]!.length = Math.min(finished[b]!.length, beams);
      }

      // The best `beams` candidates that did not stop run on (`_get_running_beams_for_next_iteration`).
      const next = candidates
        .map((c) => ({ ...c, score: c.score + (c.hit ? BLOCKED : 0) }))
        .sort((x, y) => y.score - x.score || x.rank - y.rank)
        .slice(0, beams);
      running[b] = next.map((c) => ({ tokens: c.tokens, score: c.score }));
      sourceRows.push(...next.map((c) => b * beams + c.beam));
    }
    runner.reorder(sourceRows);
    curLen += 1;
    for (let b = 0; b < prompt.batch; b++) {
      if (!improvable[b]) continue;
      const hypotheticalLength = earlyStopping === 'never' && lp > 0 ? lengths.maxLength - promptLength : curLen - promptLength;
      const bestPossible = running[b]![0]!.score / hypotheticalLength ** lp;
      const worstFinished = finished[b]!.length === beams ? finished[b]![beams - 1]!.score : BLOCKED;
      improvable[b] = bestPossible > worstFinished;
    }
    const allFull = finished.every((f) => f.length === beams);
    if (!improvable.some(Boolean) || (earlyStopping === true && allFull) || allHit) break;
    logits = await runner.step(running.flatMap((r) => r.map((beam) => beam.tokens[beam.tokens.length - 1]!)));
  }
  const sequences: number[][] = [];
  const scores: number[] = [];
  for (let b = 0; b < prompt.batch; b++) {
    for (const hyp of finished[b]!.slice(0, s.numReturnSequences)) {
      sequences.push(hyp.tokens.slice(promptLength));
      scores.push(hyp.score);
    }
  }
  return { sequences, scores };
}
