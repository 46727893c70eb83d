// Stop sequences over streamed text: finds the first occurrence of any stop string, even across
// pieces, and holds back a tail that could still become one, so no stop text is ever handed out.

export class StopMatcher {
  private readonly stops: readonly string[];
  private pending = '';
  /** True once a stop sequence was seen. */
  stopped = false;

  constructor(stops: readonly string[]) {
    this.stops = stops;
  }

  /** Adds a piece; returns the text that is safe to hand out now. */
  push(piece: string): string {
    if (this.stopped) return '';
    this.pending += piece;
    let cut = -1;
    for (const stop of this.stops) {
      const at = this.pending.indexOf(stop);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      this.stopped = true;
      const out = this.pending.slice(0, cut);
      this.pending = '';
      return out;
    }
    const hold = this.heldLength();
    const out = this.pending.slice(0, this.pending.length - hold);
    this.pending = this.pending.slice(this.pending.length - hold);
    return out;
  }

  /** At the end of generation: what was held back (it did not become a stop sequence). */
  finish(): string {
    const out = this.stopped ? '' : this.pending;
    this.pending = '';
    return out;
  }

  /** The longest tail of `pending` that is a proper prefix of a stop string. */
  private heldLength(): number {
    let longest = 0;
    for (const stop of this.stops) {
      for (let length = Math.min(stop.length - 1, this.pending.length); length > longest; length--) {
        if (this.pending.endsWith(stop.slice(0, length))) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }
}
