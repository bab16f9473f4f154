// OpenAI's `stop`: the reply ends before the first stop sequence and does not contain it. Pieces
// are scanned with the last (longest stop − 1) characters held back, so a stop sequence split across
// two pieces is still found and none of it is ever sent.

/**
 * @example
 * const s = new StopMatcher(['\n\n']); s.push('a\n'); // { text: 'a', stopped: false }; then s.push('\nb') → { text: '', stopped: true }
 */
export class StopMatcher {
  private pending = '';
  private readonly holdBack: number;

  constructor(private readonly stops: readonly string[]) {
    this.holdBack = Math.max(0, ...stops.map((s) => s.length - 1));
  }

  /** The text safe to send now, and whether a stop sequence was reached (nothing after it is sent). */
  push(piece: string, final = false): { text: string; stopped: boolean } {
    this.pending += piece;
    let first = -1;
    for (const stop of this.stops) {
      const at = this.pending.indexOf(stop);
      if (at >= 0 && (first < 0 || at < first)) first = at;
    }
    if (first >= 0) {
      const text = this.pending.slice(0, first);
      this.pending = '';
      return { text, stopped: true };
    }
    let cut = final ? this.pending.length : Math.max(0, this.pending.length - this.holdBack);
    const code = this.pending.charCodeAt(cut - 1);
    if (!final && cut > 0 && code >= 0xd800 && code <= 0xdbff) cut -= 1;
    const text = this.pending.slice(0, cut);
    this.pending = this.pending.slice(cut);
    return { text, stopped: false };
  }
}
