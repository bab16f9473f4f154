// When streamed text becomes final, as transformers' TextStreamer decides (generation/streamers.py):
// after a newline everything is final; a text ending in a CJK character is final up to its end;
// otherwise text is final up to the last space, since the next token may still extend the word. A text
// ending in U+FFFD (a multi-byte character split across tokens) waits for the next token; TextStreamer's
// rules never print it either, the check only makes that explicit. Differences: every row of a batch
// streams (TextStreamer takes batch size 1), and after a newline the whole row keeps being decoded
// (TextStreamer restarts from the next token, which can drop a leading space), so a row's chunks always
// add up to its decoded text.
import type { TextTokenizer } from '../contracts/model';

/** CJK code points as TextStreamer._is_chinese_char lists them. */
function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** The last code point of a non-empty string (a surrogate pair counts as one). */
function lastCodePoint(text: string): number {
  const low = text.charCodeAt(text.length - 1);
  if (low >= 0xdc00 && low <= 0xdfff && text.length > 1) return text.codePointAt(text.length - 2)!;
  return low;
}

/**
 * One row's streamed text: `put` takes the next token and returns the text that became final with it;
 * `end` returns the rest. Decodes with special tokens skipped, as `texts` are.
 *
 * @example
 * const row = new RowTextStreamer(tokenizer);
 * process.stdout.write(row.put(id)); // '' until a word is complete
 * process.stdout.write(row.end());
 */
export class RowTextStreamer {
  private readonly tokens: number[] = [];
  private printed = 0;

  constructor(private readonly tokenizer: TextTokenizer) {}

  put(token: number): string {
    this.tokens.push(token);
    const text = this.tokenizer.decode(this.tokens, { skipSpecialTokens: true });
    if (text.length === 0 || text.endsWith('\uFFFD')) return '';
    let final: number;
    if (text.endsWith('\n') || isCjk(lastCodePoint(text))) final = text.length;
    else final = text.lastIndexOf(' ') + 1;
    if (final <= this.printed) return '';
    const out = text.slice(this.printed, final);
    this.printed = final;
    return out;
  }

  end(): string {
    if (this.tokens.length === 0) return '';
    const text = this.tokenizer.decode(this.tokens, { skipSpecialTokens: true });
    const out = text.slice(this.printed);
    this.printed = text.length;
    return out;
  }
}
