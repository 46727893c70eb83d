// Log-probabilities of generated tokens, from the softmax the sampler draws from: the row of
// logits after the repetition penalty and the blocked ids, divided by the temperature (1 when
// greedy), before top-k / top-p / min-p cut it. Stored in typed arrays per row; the most likely
// alternatives of each step are kept with it when asked for.

/** The most alternatives a step may list (OpenAI's cap for chat). */
export const maxTopLogprobs = 20;

export interface TopLogprob {
  id: number;
  /** The token's text (its bytes read as UTF-8; a partial character shows as U+FFFD). */
  text: string;
  /** Natural log-probability. */
  logprob: number;
}

export interface TokenLogprob extends TopLogprob {
  /** The most likely tokens at this step, most likely first (empty unless topLogprobs > 0). */
  top: TopLogprob[];
}

export class LogprobRecorder {
  /** The chosen tokens and their log p, one per generated token. */
  readonly ids: Uint32Array;
  readonly logprobs: Float64Array;
  /** Alternatives per step: `top` slots each, id −1 where the vocabulary had fewer finite entries. */
  readonly topIds: Int32Array;
  readonly topLogprobs: Float64Array;
  count = 0;
  private readonly inverse: number;

  constructor(
    capacity: number,
    readonly top: number,
    temperature: number,
  ) {
    this.ids = new Uint32Array(capacity);
    this.logprobs = new Float64Array(capacity);
    this.topIds = new Int32Array(capacity * top).fill(-1);
    this.topLogprobs = new Float64Array(capacity * top);
    this.inverse = temperature > 0 ? 1 / temperature : 1;
  }

  /** Records the chosen `id` of `row` (the row as the sampler left it). */
  record(row: Float32Array, id: number): void {
    const inverse = this.inverse;
    let max = -Infinity;
    for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
    let sum = 0;
    for (let i = 0; i < row.length; i++) sum += Math.exp((row[i] - max) * inverse);
    const logNormalizer = max * inverse + Math.log(sum);
    const step = this.count++;
    this.ids[step] = id;
    this.logprobs[step] = row[id] * inverse - logNormalizer;
    if (this.top === 0) return;
    // The `top` largest logits by insertion into a short sorted list (top ≤ 20).
    const base = step * this.top;
    const ids = this.topIds;
    const values = this.topLogprobs;
    let filled = 0;
    for (let i = 0; i < row.length; i++) {
      const value = row[i];
      if (value === -Infinity || (filled === this.top && value <= values[base + filled - 1])) continue;
      let at = filled < this.top ? filled++ : filled - 1;
      while (at > 0 && values[base + at - 1] < value) {
        values[base + at] = values[base + at - 1];
        ids[base + at] = ids[base + at - 1];
        at--;
      }
      values[base + at] = value;
      ids[base + at] = i;
    }
    for (let j = 0; j < filled; j++) values[base + j] = values[base + j] * inverse - logNormalizer;
  }

  /** Entries [from, to) as objects, token texts from `textOf`. */
  entries(from: number, to: number, textOf: (id: number) => string): TokenLogprob[] {
    const ids = this.ids;
    const out: TokenLogprob[] = [];
    for (let step = from; step < to; step++) {
      const top: TopLogprob[] = [];
      for (let j = 0; j < this.top; j++) {
        const id = this.topIds[step * this.top + j];
        if (id < 0) break;
        top.push({ id, text: textOf(id), logprob: this.topLogprobs[step * this.top + j] });
      }
      out.push({ id: ids[step], text: textOf(ids[step]), logprob: this.logprobs[step], top });
    }
    return out;
  }
}
