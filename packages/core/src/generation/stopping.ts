// When a row is done, as transformers' stopping criteria decide (generation/stopping_criteria.py):
// MaxLengthCriteria (prompt ids + new tokens reach max_length), EosTokenCriteria (the last id is one
// of the EOS ids) and StopStringCriteria (a stop string ends inside the last token's text).
import type { TextTokenizer } from '../contracts/model';
import { MmftError } from '../errors';
import type { GenerationLengths, GenerationSettings } from './types';

/**
 * StopStringCriteria's rule on decoded text: the row stops when one of the strings occurs with its
 * end inside the text of the last token (the token may run past the string's end, and the string may
 * start in earlier tokens, prompt included). transformers matches token strings of the vocabulary; this
 * decodes a window of the row's last tokens, which gives the same answer for real text.
 */
export class StopStringMatcher {
  private readonly window: number;

  constructor(
    private readonly tokenizer: TextTokenizer,
    private readonly strings: readonly string[],
  ) {
    // Each token holds at least one character, so this many tokens cover the longest string with room
    // on the left for decoders that treat the first token specially (a leading space, a split byte).
    this.window = 2 * Math.max(...strings.map((s) => s.length)) + 2;
  }

  matches(history: readonly number[]): boolean {
    if (history.length === 0) return false;
    const tail = history.slice(-this.window);
    const full = this.tokenizer.decode(tail);
    const before = this.tokenizer.decode(tail.slice(0, -1));
    let common = 0;
    while (common < before.length && before[common] === full[common]) common++;
    // An occurrence ends inside the last token when it ends after the common prefix.
    return this.strings.some((s) => full.indexOf(s, Math.max(0, common - s.length + 1)) >= 0);
  }
}

/**
 * The row's stopping test: true when the row (prompt ids + new tokens so far) is done.
 *
 * @example
 * const done = stoppingCriteria(settings, lengths, tokenizer);
 * if (done(history)) finished[row] = true;
 */
export function stoppingCriteria(
  s: GenerationSettings,
  lengths: GenerationLengths,
  tokenizer: TextTokenizer | undefined,
): (history: readonly number[]) => boolean {
  let stop: StopStringMatcher | undefined;
  if (s.stopStrings.length > 0) {
    if (!tokenizer) {
      throw new MmftError('E_INPUT', `generate: stopStrings ${JSON.stringify(s.stopStrings)} need the model's tokenizer to read the text`, {
        hint: 'load the model with its tokenizer files, or drop stopStrings and use eosTokenId',
      });
    }
    stop = new StopStringMatcher(tokenizer, s.stopStrings);
  }
  const eos = new Set(s.eosTokenIds);
  return (history) =>
    history.length >= lengths.maxLength ||
    (history.length > 0 && eos.has(history[history.length - 1]!)) ||
    (stop?.matches(history) ?? false);
}
