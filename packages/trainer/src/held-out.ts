// The held-out evaluation of a training run: a fixed token set cut once from `evalCorpus` (its
// first documents, framed as the training data is, up to `evalTokens` targets) and the student's
// mean next-token cross-entropy per token on it, computed every `evalEvery` steps by a
// forward-only onnxruntime session over the engine's current weights. Nothing random enters
// (the model has no dropout, the windows are the stream cut in order), so equal weights give an
// equal figure: a resumed run reproduces the eval curve of an uninterrupted one exactly.
// For objective kd this is the hard-label cross-entropy, the number comparable with a CE-only run.
import { createHash } from 'node:crypto';
import { loadTokenizer, readCorpus, type CorpusTask } from '@kd/text';
import type { ModelConfig } from './config.js';
import type { EngineName } from './engine/engine.js';
import { TrainingSession } from './engine/session.js';
import { TensorflowSession } from './engine/tensorflow-session.js';
import { crossEntropyObjective } from './engine/objective.js';
import { TrainerError } from './errors.js';

/** One point of the eval curve: the weights after `step` optimizer steps, their mean CE per held-out token. */
export interface EvalPoint {
  step: number;
  loss: number;
}

/** The held-out windows, cut once: [windows, sequenceLength] inputs, labels and row weights (0 on the padding of the last window). */
export interface HeldOutSet {
  /** Target tokens evaluated (at most `evalTokens`). */
  tokens: number;
  windows: number;
  inputs: Int32Array;
  labels: Int32Array;
  rowWeights: Float32Array;
  /** sha256 of the inputs and labels: what a resume must evaluate on again. */
  sha256: string;
}

export interface HeldOutOptions {
  corpus: string;
  tasks?: readonly CorpusTask[];
  tokenizerPath: string;
  /** The run's marker ids (from its model config), as the training data is framed. */
  bosId?: number;
  eosId: number;
  /** Most target tokens to evaluate on. */
  tokens: number;
  sequenceLength: number;
}

/** Reads the first documents of the corpus until `tokens` + 1 ids are framed, and cuts them into windows of `sequenceLength` targets. */
export async function readHeldOut(options: HeldOutOptions): Promise<HeldOutSet> {
  const tokenizer = await loadTokenizer(options.tokenizerPath, { specialTokens: { bos: options.bosId ?? null, eos: options.eosId } });
  const wanted = options.tokens + 1;
  const stream = new Int32Array(wanted);
  let filled = 0;
  let chunk: string[] = [];
  const take = async () => {
    for (const { ids } of await tokenizer.frameBatch(chunk)) {
      const count = Math.min(ids.length, wanted - filled);
      for (let index = 0; index < count; index++) stream[filled + index] = ids[index];
      filled += count;
    }
    chunk = [];
  };
  try {
    for await (const document of readCorpus(options.corpus, { tasks: options.tasks })) {
      chunk.push(document.text);
      if (chunk.length === 32) await take();
      if (filled >= wanted) break;
    }
    if (chunk.length > 0 && filled < wanted) await take();
  } catch (cause) {
    throw new TrainerError('E_DATA', `evalCorpus ${options.corpus}: ${(cause as Error).message}`, { cause });
  }
  const tokens = filled - 1;
  if (tokens < 1) throw new TrainerError('E_DATA', `evalCorpus ${options.corpus} gives ${filled} token${filled === 1 ? '' : 's'}, too few to evaluate on; give held-out text`);
  const { sequenceLength } = options;
  const windows = Math.ceil(tokens / sequenceLength);
  const inputs = new Int32Array(windows * sequenceLength).fill(options.eosId);
  const labels = new Int32Array(windows * sequenceLength).fill(options.eosId);
  const rowWeights = new Float32Array(windows * sequenceLength);
  for (let position = 0; position < tokens; position++) {
    inputs[position] = stream[position];
    labels[position] = stream[position + 1];
    rowWeights[position] = 1;
  }
  const sha256 = createHash('sha256').update(new Uint8Array(inputs.buffer)).update(new Uint8Array(labels.buffer)).update(new Uint8Array(rowWeights.buffer)).digest('hex');
  return { tokens, windows, inputs, labels, rowWeights, sha256 };
}

/** Forward passes over the held-out set in micro-batches of `batchSize` windows; `measure` gives the mean CE per target token. */
export class HeldOutEvaluator {
  private constructor(
    private readonly set: HeldOutSet,
    private readonly session: TrainingSession | TensorflowSession,
    private readonly batchSize: number,
    private readonly sequenceLength: number,
  ) {}

  /** `engine` runs the forward passes (the run's engine); `initial` sizes the TensorFlow.js model (each `measure` sets its weights). */
  static async create(
    config: ModelConfig,
    set: HeldOutSet,
    options: { engine: EngineName; initial: ReadonlyMap<string, Float32Array>; batchSize: number; sequenceLength: number; threads: number },
  ): Promise<HeldOutEvaluator> {
    // No more windows per pass than the set has: a small set costs a small pass.
    const batchSize = Math.min(options.batchSize, set.windows);
    const shape = { batchSize, sequenceLength: options.sequenceLength };
    const session =
      options.engine === 'onnxruntime'
        ? await TrainingSession.create(config, crossEntropyObjective, { ...shape, threads: options.threads, forwardOnly: true })
        : TensorflowSession.create(config, options.initial, { name: 'ce' }, { ...shape, forwardOnly: true });
    return new HeldOutEvaluator(set, session, batchSize, options.sequenceLength);
  }

  get tokens(): number {
    return this.set.tokens;
  }

  /** Mean cross-entropy (nats) per held-out token under `weights` (the checkpoint layout). */
  async measure(weights: ReadonlyMap<string, Float32Array>): Promise<number> {
    const rows = this.batchSize * this.sequenceLength;
    const { inputs, labels, rowWeights, windows } = this.set;
    let total = 0;
    for (let first = 0; first < windows; first += this.batchSize) {
      const start = first * this.sequenceLength;
      const batchInputs = new Int32Array(rows);
      const batchLabels = new Int32Array(rows);
      const batchWeights = new Float32Array(rows);
      const end = Math.min(start + rows, inputs.length);
      batchInputs.set(inputs.subarray(start, end));
      batchLabels.set(labels.subarray(start, end));
      batchWeights.set(rowWeights.subarray(start, end));
      let counted = 0;
      for (let index = 0; index < rows; index++) counted += batchWeights[index];
      if (counted === 0) continue;
      // The session's loss is the weighted mean over the batch's rows; back to a sum.
      const { loss } = await this.session.run(weights, batchInputs, { rows, labels: batchLabels, rowWeights: batchWeights });
      total += loss * counted;
    }
    return total / this.set.tokens;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
