// Training windows over one token stream and their seeded order. Documents are joined into a
// stream (each as BOS? + tokens + EOS); window w covers tokens [w·s, w·s + s + 1) for sequence
// length s, so every token is a target exactly once per epoch. Each epoch visits the windows in
// its own seeded permutation; micro-batch p is a pure function of (seed, p), which is what
// makes a resumed run read exactly the data an uninterrupted one would.

/** Number of whole windows of `sequenceLength` targets in a stream of `tokenCount` tokens. */
export function windowCount(tokenCount: number, sequenceLength: number): number {
  return Math.max(0, Math.floor((tokenCount - 1) / sequenceLength));
}

/** mulberry32: a small fast PRNG with a 32-bit state; enough for shuffling. */
function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/** The visiting order of `count` windows in `epoch` (Fisher–Yates with a seed per epoch). */
export function epochOrder(count: number, seed: number, epoch: number): Uint32Array {
  const order = new Uint32Array(count);
  for (let index = 0; index < count; index++) order[index] = index;
  const random = randomSource(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(epoch + 1, 0xc2b2ae35));
  for (let index = count - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    const held = order[index];
    order[index] = order[other];
    order[other] = held;
  }
  return order;
}

/** Serves micro-batches of windows from a token stream in seeded epoch order. */
export class WindowSampler {
  readonly windows: number;
  private readonly stream: Int32Array;
  private readonly sequenceLength: number;
  private readonly batchSize: number;
  private readonly seed: number;
  private cachedEpoch = -1;
  private cachedOrder: Uint32Array = new Uint32Array(0);

  constructor(stream: Int32Array, options: { sequenceLength: number; batchSize: number; seed: number }) {
    this.stream = stream;
    this.sequenceLength = options.sequenceLength;
    this.batchSize = options.batchSize;
    this.seed = options.seed;
    this.windows = windowCount(stream.length, options.sequenceLength);
  }

  private order(epoch: number): Uint32Array {
    if (epoch !== this.cachedEpoch) {
      this.cachedOrder = epochOrder(this.windows, this.seed, epoch);
      this.cachedEpoch = epoch;
    }
    return this.cachedOrder;
  }

  /** Micro-batch `position` (0, 1, …): [batchSize, sequenceLength + 1] token ids, row-major. */
  batchAt(position: number): { tokens: Int32Array; epoch: number } {
    const width = this.sequenceLength + 1;
    const tokens = new Int32Array(this.batchSize * width);
    let epoch = 0;
    for (let row = 0; row < this.batchSize; row++) {
      const global = position * this.batchSize + row;
      epoch = Math.floor(global / this.windows);
      const window = this.order(epoch)[global % this.windows];
      const start = window * this.sequenceLength;
      tokens.set(this.stream.subarray(start, start + width), row * width);
    }
    return { tokens, epoch };
  }
}
