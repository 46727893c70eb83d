// The text pieces of a running generation as an async iterator, with the final result beside
// it. The generation runs ahead of the reader; leaving the loop early cancels it.
import type { TokenLogprob } from './token-logprobs.js';

/** A piece of text with the log-probabilities of the tokens generated up to it (when asked for). */
export interface TextChunk {
  /** May be empty in a chunk that only carries logprobs (the tokens of a stop sequence, at the end). */
  text: string;
  /** The tokens generated since the previous chunk; present with `logprobs` or `topLogprobs`. */
  logprobs?: TokenLogprob[];
}

export interface TextStream<Result> extends AsyncIterable<string> {
  /** Settles when generation ends: the same result generate() gives. */
  readonly result: Promise<Result>;
  /** The same pieces as chunks with their tokens' log-probabilities; read this or the stream itself, not both. */
  chunks(): AsyncIterable<TextChunk>;
}

/** A queue between the generation (push/close/fail) and one reader. */
export class PieceChannel {
  private readonly pieces: TextChunk[] = [];
  private done = false;
  private error: unknown;
  private wake: (() => void) | undefined;

  push(chunk: TextChunk): void {
    if (chunk.text.length === 0 && !chunk.logprobs?.length) return;
    this.pieces.push(chunk);
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

  async *read(onLeave: () => void): AsyncGenerator<TextChunk> {
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
