// Output filter contract: what a server runs over generated text before a client sees it (a
// blocklist that refuses or redacts). Streaming is first-class: a filter that sees the reply piece
// by piece holds back the characters a blocked term could still be completing, so a term split
// across two streamed pieces is caught as surely as in the whole text (docs/serving.md, "Filters").
import type { ProviderBase } from './provider';

/** What a filter decides about a whole text: let it through, refuse it, or pass a rewritten text. */
export type FilterVerdict =
  | { readonly action: 'allow' }
  | { readonly action: 'refuse'; readonly reason: string }
  | { readonly action: 'redact'; readonly text: string };

/**
 * What a streaming filter says about the pieces seen so far: `emit` the text that is now safe to
 * show (possibly empty while it waits for more, possibly redacted), or `refuse` (the caller stops
 * generating; the text emitted before stays with the client, as OpenAI's `content_filter` finish).
 */
export type StreamVerdict = { readonly action: 'emit'; readonly text: string } | { readonly action: 'refuse'; readonly reason: string };

/**
 * One streamed reply's checker: called with each new piece, and once with `final` true (the piece
 * may be empty) when the reply ends; after `final`, everything held back has been emitted or refused.
 */
export type StreamFilter = (piece: string, final: boolean) => StreamVerdict;

/**
 * A configured output filter. `stream()` makes a fresh checker per reply; a filter without it is
 * run by the server on the whole reply at its end (nothing streams before that).
 *
 * @example
 * const f = provider.create({ file: 'blocked.txt', mode: 'redact' });
 * f.check('a bad word'); // { action: 'redact', text: 'a *** word' }
 * const s = f.stream!(); s('a ba', false); s('d word', true); // emits 'a ', then '*** word'
 */
export interface OutputFilter {
  readonly name: string;
  check(text: string): FilterVerdict;
  stream?(): StreamFilter;
}

/** A filter plugin: `create` builds the filter from its parsed config. */
export interface OutputFilterProvider<Config = unknown, ConfigInput = unknown> extends ProviderBase<Config, ConfigInput> {
  readonly kind: 'filter';
  create(config: Config): OutputFilter;
}

declare module './kinds' {
  interface ProviderKindMap {
    filter: OutputFilterProvider;
  }
}
