// The text pieces of a running generation as an async iterator, with the final result beside
// it. The generation runs ahead of the reader; leaving the loop early cancels it.

export interface TextStream<Result> extends AsyncIterable<string> {
  /** Settles when generation ends: the same result generate() gives. */
  readonly result: Promise<Result>;
}

/** A queue between the generation (push/close/fail) and one reader. */
export class PieceChannel {
  private readonly pieces: string[] = [];
  private done = false;
  private error: unknown;
  private wake: (() => void) | undefined;

  push(piece: string): void {
    if (piece.length === 0) return;
    this.pieces.push(piece);
    this.notify();
  }
  close(): void {
    this.done = true;
    this.notify();
  }
  fail(error: unknown): void {
    this.error = error;
    this.done = true;
    this.notify();
  }
  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async *read(onLeave: () => void): AsyncGenerator<string> {
    try {
      for (;;) {
        if (this.pieces.length > 0) {
          yield this.pieces.shift()!;
          continue;
        }
        if (this.done) {
          if (this.error !== undefined) throw this.error;
          return;
        }
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      if (!this.done) onLeave();
    }
  }
}
