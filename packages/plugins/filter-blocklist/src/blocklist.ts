// The blocklist filter over whole texts and over streamed pieces. A streamed reply is scanned with
// what was already shown as left context, and the last characters are held back while a term could
// still be completing there: the longest term minus one, plus one more when a term needs to see the
// character after it (its word boundary). Nothing shown can then become part of a later match, so a
// term split across pieces ("ba" + "d", "违" + "禁") is refused or redacted as in the whole text.
import type { FilterVerdict, OutputFilter, StreamFilter, StreamVerdict } from '@mmft/core';
import type { BlocklistConfig } from './config';
import { anyTrailingBoundary, needsBoundary, readTerms, termsPattern, type Term } from './terms';

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;

/**
 * A blocklist over `terms`: refuse or redact as `config.mode` says.
 *
 * @example
 * const f = new BlocklistFilter([{ text: 'bad', line: 1 }], { file: 'x', mode: 'redact', replacement: '***' });
 * f.check('not BAD at all'); // { action: 'redact', text: 'not *** at all' }
 */
export class BlocklistFilter implements OutputFilter {
  readonly name = 'blocklist';
  private readonly pattern: RegExp;
  /** Characters (UTF-16 units) a stream keeps back, see the file comment. */
  readonly holdBack: number;

  constructor(
    private readonly terms: readonly Term[],
    private readonly config: BlocklistConfig,
  ) {
    this.pattern = termsPattern(terms);
    this.holdBack = Math.max(...terms.map((t) => t.text.length)) - 1 + (anyTrailingBoundary(terms) ? 1 : 0);
  }

  /** Builds the filter from a config naming the terms file. */
  static fromConfig(config: BlocklistConfig): BlocklistFilter {
    return new BlocklistFilter(readTerms(config.file), config);
  }

  check(text: string): FilterVerdict {
    const verdict = this.stream()(text, true);
    if (verdict.action === 'refuse') return verdict;
    return verdict.text === text ? { action: 'allow' } : { action: 'redact', text: verdict.text };
  }

  stream(): StreamFilter {
    let before = ''; // the last character already passed on: left context for the word check
    let pending = '';
    let refused: StreamVerdict | undefined;
    return (piece, final) => {
      if (refused) return refused;
      const full = before + pending + piece;
      const offset = before.length;
      let cut = final ? full.length : Math.max(offset, full.length - this.holdBack);
      let out = '';
      let from = offset;
      this.pattern.lastIndex = offset;
      for (let m = this.pattern.exec(full); m; m = this.pattern.exec(full)) {
        const start = m.index;
        const end = start + m[0].length;
        if (start >= cut && this.config.mode === 'redact') break;
        // At the end of what has arrived, a word's boundary is not known until the next character.
        const certain = final || end < full.length || !needsBoundary(m[0].slice(-1));
        if (!certain) break;
        if (this.config.mode === 'refuse') {
          refused = { action: 'refuse', reason: `the reply contains a blocked term (blocklist line ${this.lineOf(m[0])})` };
          return refused;
        }
        out += full.slice(from, start) + this.config.replacement;
        from = end;
        cut = Math.max(cut, end);
      }
      if (cut < full.length && cut > from && isHighSurrogate(full.charCodeAt(cut - 1))) cut -= 1;
      out += full.slice(from, Math.max(from, cut));
      const passed = Math.max(from, cut);
      // Keep one whole code point of context (a surrogate pair is two units).
      before = full.slice(Math.max(0, passed - 2), passed);
      if (before.length === 2 && !isHighSurrogate(before.charCodeAt(0))) before = before.slice(1);
      pending = full.slice(passed);
      return { action: 'emit', text: out };
    };
  }

  private lineOf(matched: string): number {
    const folded = matched.toLowerCase();
    return (this.terms.find((t) => t.text.toLowerCase() === folded) ?? this.terms[0]!).line;
  }
}
