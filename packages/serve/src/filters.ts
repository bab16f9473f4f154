// Output filters (core's `filter` kind, packages/core/src/contracts/filter.ts) chained over a reply:
// each filter's emitted text is the next one's piece. A filter without `stream()` sees the whole
// reply at its end, so it holds everything back until then.
import type { OutputFilter, StreamFilter, StreamVerdict } from '@mmft/core';

function wholeText(filter: OutputFilter): StreamFilter {
  let text = '';
  return (piece, final) => {
    text += piece;
    if (!final) return { action: 'emit', text: '' };
    const verdict = filter.check(text);
    if (verdict.action === 'refuse') return verdict;
    return { action: 'emit', text: verdict.action === 'redact' ? verdict.text : text };
  };
}

/**
 * One reply's checker over all filters in order; no filters: every piece passes as it is.
 *
 * @example
 * const check = filterChain([blocklist]); check('piece', false); check('', true);
 */
export function filterChain(filters: readonly OutputFilter[]): StreamFilter {
  const stages = filters.map((f) => (f.stream ? f.stream() : wholeText(f)));
  return (piece, final) => {
    let text = piece;
    for (const stage of stages) {
      const verdict: StreamVerdict = stage(text, final);
      if (verdict.action === 'refuse') return verdict;
      text = verdict.text;
    }
    return { action: 'emit', text };
  };
}
