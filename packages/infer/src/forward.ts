// One batched forward pass at a time over left-padded sequences: the prompt once (prefill), then
// one new token per row per step. With a KV cache each step feeds the `present.*` tensors of the
// last run back as `past_key_values.*` (no copy in JavaScript); without one, each step runs the
// whole sequence again. Buffers are sized once per batch.
import { logitsAsFloat32 } from '@kd/lm-signature';
import { Tensor } from 'onnxruntime-node';
import { InferError } from './errors.js';
import { runSession, type Feeds } from './session.js';
import type { IdTensorType, ModelSignature } from './signature.js';
import type { InferenceSession } from 'onnxruntime-node';

export interface Runner {
  readonly session: InferenceSession;
  readonly signature: ModelSignature;
  readonly modelPath: string;
  /** The logits' last dimension. */
  readonly vocabSize: number;
  /** False: every step recomputes the whole sequence. */
  readonly useCache: boolean;
}

type IdArray = BigInt64Array | Int32Array;

function idArray(type: IdTensorType, length: number): IdArray {
  return type === 'int64' ? new BigInt64Array(length) : new Int32Array(length);
}

function setId(array: IdArray, index: number, value: number): void {
  if (array instanceof BigInt64Array) array[index] = BigInt(value);
  else array[index] = value;
}

const allPositions = new Tensor('int64', BigInt64Array.of(0n), [1]);
const lastPosition = new Tensor('int64', BigInt64Array.of(-1n), [1]);
const emptyFloat32 = new Float32Array(0);
const emptyFloat16 = new Uint16Array(0);

/** The cache inputs of a first run: [batch, heads, 0, headDim]. */
export function emptyCacheFeeds(signature: ModelSignature, batch: number, feeds: Feeds): void {
  for (const slot of signature.cache) {
    feeds[slot.input] = new Tensor(slot.type, slot.type === 'float16' ? emptyFloat16 : emptyFloat32, [batch, slot.heads, 0, slot.headDim]);
  }
  if (signature.useCacheBranch) feeds[signature.useCacheBranch] = new Tensor('bool', new Uint8Array([0]), [1]);
}

/**
 * Logits of the whole sequence for right-padded rows (`lengths[b]` real tokens each), for
 * scoring: [batch, sequence, vocabulary] as float32.
 */
export async function forwardAll(runner: Runner, ids: Uint32Array, lengths: readonly number[], sequence: number): Promise<Float32Array> {
  const { signature } = runner;
  const batch = lengths.length;
  const size = batch * sequence;
  const idsData = idArray(signature.inputIds.type, size);
  for (let i = 0; i < size; i++) setId(idsData, i, ids[i]);
  const feeds: Feeds = { [signature.inputIds.name]: new Tensor(signature.inputIds.type, idsData, [batch, sequence]) };
  if (signature.attentionMask) {
    const mask = idArray(signature.attentionMask.type, size);
    for (let b = 0; b < batch; b++) for (let t = 0; t < lengths[b]; t++) setId(mask, b * sequence + t, 1);
    feeds[signature.attentionMask.name] = new Tensor(signature.attentionMask.type, mask, [batch, sequence]);
  } else if (lengths.some((length) => length !== sequence)) {
    throw new InferError('E_OPTIONS', `${runner.modelPath} has no attention_mask input, so sequences of different lengths cannot share a batch`);
  }
  if (signature.positionIds) {
    const positions = idArray(signature.positionIds.type, size);
    for (let b = 0; b < batch; b++) for (let t = 0; t < sequence; t++) setId(positions, b * sequence + t, t);
    feeds[signature.positionIds.name] = new Tensor(signature.positionIds.type, positions, [batch, sequence]);
  }
  emptyCacheFeeds(signature, batch, feeds);
  if (signature.logitsFrom) feeds[signature.logitsFrom] = allPositions;
  const outputs = await runSession(runner.session, feeds, runner.modelPath);
  return logitsAsFloat(outputs[signature.logits.name] as Tensor, runner);
}

function logitsAsFloat(tensor: Tensor, runner: Runner): Float32Array {
  return logitsAsFloat32(runner.signature.logits.type, tensor.data as Float32Array | Uint16Array);
}

/**
 * A batch of sequences being extended: row b holds `pads[b]` padding tokens, its prompt, then what
 * was generated. All rows have the same length (`length`), so one tensor carries them.
 */
export class BatchForward {
  readonly batch: number;
  readonly pads: Int32Array;
  /** Tokens so far per row, padding included. */
  length: number;
  private readonly runner: Runner;
  private readonly capacity: number;
  /** batch × capacity token ids, padding included (used when recomputing). */
  private readonly tokens: Uint32Array;
  private past: Tensor[] | undefined;
  private readonly lastLogits: Float32Array;
  private readonly stepIds: IdArray;
  private readonly stepPositions: IdArray | undefined;
  /** Ones for a batch without padding: every mask is a prefix of it. */
  private readonly onesMask: IdArray | undefined;
  private readonly cacheBranchOn: Tensor | undefined;
  private readonly prefillWidth: number;

  constructor(runner: Runner, prompts: readonly Uint32Array[], maxNewTokens: number) {
    this.runner = runner;
    this.batch = prompts.length;
    const width = Math.max(...prompts.map((prompt) => prompt.length));
    this.length = 0;
    this.capacity = width + maxNewTokens;
    this.pads = Int32Array.from(prompts, (prompt) => width - prompt.length);
    if (!runner.signature.attentionMask && this.pads.some((pad) => pad > 0)) {
      throw new InferError('E_OPTIONS', `${runner.modelPath} has no attention_mask input, so prompts of different lengths cannot share a batch; generate them one at a time`);
    }
    this.tokens = new Uint32Array(this.batch * this.capacity);
    for (let b = 0; b < this.batch; b++) this.tokens.set(prompts[b], b * this.capacity + this.pads[b]);
    this.lastLogits = new Float32Array(this.batch * runner.vocabSize);
    const { signature } = runner;
    this.stepIds = idArray(signature.inputIds.type, this.batch);
    this.stepPositions = signature.positionIds ? idArray(signature.positionIds.type, this.batch) : undefined;
    if (signature.attentionMask && this.pads.every((pad) => pad === 0)) {
      const ones = idArray(signature.attentionMask.type, this.batch * this.capacity);
      if (ones instanceof BigInt64Array) ones.fill(1n);
      else ones.fill(1);
      this.onesMask = ones;
    }
    if (signature.useCacheBranch) this.cacheBranchOn = new Tensor('bool', new Uint8Array([1]), [1]);
    this.prefillWidth = width;
  }

  /** Runs the prompts; returns the logits of each row's next token, [batch, vocabulary]. */
  async prefill(): Promise<Float32Array> {
    this.length = this.prefillWidth;
    return this.runWindow(0, this.prefillWidth, true);
  }

  /** Appends `next[b]` to each row and returns the logits that follow, [batch, vocabulary]. */
  async step(next: ArrayLike<number>): Promise<Float32Array> {
    if (this.length >= this.capacity) throw new InferError('E_OPTIONS', `the batch was sized for ${this.capacity} tokens per row`);
    const column = this.length;
    for (let b = 0; b < this.batch; b++) this.tokens[b * this.capacity + column] = next[b];
    this.length++;
    if (!this.runner.useCache) return this.runWindow(0, this.length, false);
    return this.runWindow(column, this.length, false);
  }

  /** Row b's token ids after its padding. */
  rowTokens(b: number): Uint32Array {
    return this.tokens.subarray(b * this.capacity + this.pads[b], b * this.capacity + this.length);
  }

  /** Feeds columns [from, to) of every row (with the cache for [0, from)) and keeps the last column's logits. */
  private async runWindow(from: number, to: number, first: boolean): Promise<Float32Array> {
    const { signature, vocabSize } = this.runner;
    const batch = this.batch;
    const sequence = to - from;
    const feeds: Feeds = {};
    let ids: IdArray;
    if (sequence === 1) {
      ids = this.stepIds;
      for (let b = 0; b < batch; b++) setId(ids, b, this.tokens[b * this.capacity + from]);
    } else {
      ids = idArray(signature.inputIds.type, batch * sequence);
      for (let b = 0; b < batch; b++) for (let t = 0; t < sequence; t++) setId(ids, b * sequence + t, this.tokens[b * this.capacity + from + t]);
    }
    feeds[signature.inputIds.name] = new Tensor(signature.inputIds.type, ids, [batch, sequence]);
    if (signature.attentionMask) {
      let mask: IdArray;
      if (this.onesMask) mask = this.onesMask.subarray(0, batch * to);
      else {
        mask = idArray(signature.attentionMask.type, batch * to);
        for (let b = 0; b < batch; b++) for (let t = this.pads[b]; t < to; t++) setId(mask, b * to + t, 1);
      }
      feeds[signature.attentionMask.name] = new Tensor(signature.attentionMask.type, mask, [batch, to]);
    }
    if (signature.positionIds) {
      let positions: IdArray;
      if (sequence === 1) {
        positions = this.stepPositions!;
        for (let b = 0; b < batch; b++) setId(positions, b, from - this.pads[b]);
      } else {
        positions = idArray(signature.positionIds.type, batch * sequence);
        for (let b = 0; b < batch; b++) for (let t = 0; t < sequence; t++) setId(positions, b * sequence + t, Math.max(0, from + t - this.pads[b]));
      }
      feeds[signature.positionIds.name] = new Tensor(signature.positionIds.type, positions, [batch, sequence]);
    }
    const cache = signature.cache;
    if (first || !this.runner.useCache || !this.past) emptyCacheFeeds(signature, batch, feeds);
    else {
      for (let i = 0; i < cache.length; i++) feeds[cache[i].input] = this.past[i];
      if (this.cacheBranchOn) feeds[signature.useCacheBranch!] = this.cacheBranchOn;
    }
    if (signature.logitsFrom) feeds[signature.logitsFrom] = lastPosition;
    const outputs = await runSession(this.runner.session, feeds, this.runner.modelPath);
    if (this.runner.useCache) {
      const past = this.past ?? new Array<Tensor>(cache.length);
      for (let i = 0; i < cache.length; i++) past[i] = outputs[cache[i].output] as Tensor;
      this.past = past;
    }
    const logits = outputs[signature.logits.name] as Tensor;
    // A sliced graph returns the last position only.
    const positions = signature.logitsFrom ? 1 : sequence;
    const stride = positions * vocabSize;
    if (logits.data.length !== batch * stride) {
      throw new InferError('E_MODEL_SIGNATURE', `${this.runner.modelPath}: logits hold ${logits.data.length} values, expected batch ${batch} × sequence ${positions} × vocabulary ${vocabSize}`);
    }
    const offset = (positions - 1) * vocabSize;
    const data = logits.data as Float32Array | Uint16Array;
    if (logits.type === 'float32' && batch === 1 && positions === 1) return data as Float32Array;
    const type = this.runner.signature.logits.type;
    for (let b = 0; b < batch; b++) logitsAsFloat32(type, data.subarray(b * stride + offset, b * stride + offset + vocabSize), this.lastLogits.subarray(b * vocabSize, (b + 1) * vocabSize));
    return this.lastLogits;
  }
}
