// Greedy decoding and multinomial sampling, as transformers' `_sample` (generation/utils.py): per step
// the last position's float32 logits go through the processors, the next id is their argmax or a draw
// from softmax, rows that are done receive the pad id (when EOS ids exist), and the loop ends when
// every row is done. Yields one event per step so that streaming and generate() share the loop.
import { logitsProcessors, softmax } from './logits-processors';
import { SeededRandom, sampleIndex } from './random';
import type { DecodingRunner, Prompt } from './runner';
import type { GenerationLengths, GenerationSettings } from './types';

/** One decoding step: per row, the id it received (−1 when it was already done) and whether it is done now. */
export interface StepEvent {
  readonly tokens: readonly number[];
  readonly done: readonly boolean[];
}

/** The index of the largest score; the first one among ties, as torch.argmax. */
export function argmax(scores: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
  return best;
}

/**
 * Runs greedy or sampling over `runner`'s rows (prompt rows expanded numReturnSequences times) and
 * returns each row's new ids up to and including the one that ended it.
 */
export async function* sampleLoop(
  runner: DecodingRunner,
  prompt: Prompt,
  s: GenerationSettings,
  lengths: GenerationLengths,
  isDone: (history: readonly number[]) => boolean,
): AsyncGenerator<StepEvent, number[][]> {
  const processors = logitsProcessors(s, lengths);
  const random = s.doSample ? new SeededRandom(s.seed) : undefined;
  const rows = runner.rows;
  const pad = s.padTokenId ?? s.eosTokenIds[0] ?? 0;
  const history = Array.from({ length: rows }, (_, r) => [...prompt.ids[Math.floor(r / runner.expand)]!]);
  const generated: number[][] = Array.from({ length: rows }, () => []);
  const done = new Array<boolean>(rows).fill(false);
  let logits = await runner.prefill();
  for (;;) {
    const vocab = runner.vocabSize;
    const next = new Array<number>(rows).fill(pad);
    const tokens = new Array<number>(rows).fill(-1);
    for (let r = 0; r < rows; r++) {
      if (done[r]) continue;
      const scores = Float64Array.from(logits.subarray(r * vocab, (r + 1) * vocab));
      for (const process of processors) process(scores, history[r]!);
      const id = random ? sampleIndex(softmax(scores), random) : argmax(scores);
      next[r] = tokens[r] = id;
      history[r]!.push(id);
      generated[r]!.push(id);
      done[r] = isDone(history[r]!);
    }
    yield { tokens, done: [...done] };
    if (done.every(Boolean)) return generated;
    logits = await runner.step(next);
  }
}
