// The training engine: the student's weights and AdamW state as Float32Arrays, each
// micro-batch's gradients from the onnxruntime training graph (native, multi-threaded
// products), accumulation, clipping and the update on the JavaScript side. The loop in
// train.ts drives it; checkpoints read `parameters` and `optimizerState()`.
import type { ModelConfig } from '../config.js';
import { parameterShapes } from '../model.js';
import { splitWindows } from '../step.js';
import { ArrayAdamW, clipScale, globalNorm, type AdamWSettings } from './adamw.js';
import type { EngineObjective } from './objective.js';
import { TrainingSession } from './session.js';

/** A weight as checkpoints read it. */
export interface StoredParameter {
  readonly shape: number[];
  readonly size: number;
  dataSync(): Float32Array;
}

export interface EngineOptions<Targets> extends AdamWSettings {
  objective: EngineObjective<Targets>;
  batchSize: number;
  sequenceLength: number;
  /** onnxruntime intra-op threads; results are bit-reproducible for a given count. */
  threads: number;
}

export interface StepGradients {
  /** Mean loss over the micro-batches. */
  loss: number;
  /** Mean of each objective metric over the micro-batches. */
  metrics: Record<string, number>;
  /** Mean gradient per parameter name. */
  gradients: Map<string, Float32Array>;
}

/** One micro-batch: [batch, sequence + 1] token windows, and what the objective needs beyond labels. */
export interface EngineMicroBatch<Targets> {
  tokens: Int32Array;
  targets?: Targets;
}

export class TrainingEngine<Targets = unknown> {
  readonly name = 'onnxruntime';
  readonly threads: number;
  readonly parameters: ReadonlyMap<string, StoredParameter>;
  private readonly optimizer: ArrayAdamW;

  private constructor(
    readonly config: ModelConfig,
    private readonly weights: Map<string, Float32Array>,
    private readonly session: TrainingSession<Targets>,
    private readonly options: EngineOptions<Targets>,
  ) {
    this.threads = options.threads;
    const shapes = new Map(parameterShapes(config));
    const stored = new Map<string, StoredParameter>();
    for (const [name, values] of weights) stored.set(name, { shape: shapes.get(name)!, size: values.length, dataSync: () => values });
    this.parameters = stored;
    this.optimizer = new ArrayAdamW(weights, new Set([...shapes].filter(([, shape]) => shape.length >= 2).map(([name]) => name)), options);
  }

  /** An engine over copies of `initial` (checkpoint layout: projections input-major). */
  static async create<Targets>(config: ModelConfig, initial: ReadonlyMap<string, Float32Array>, options: EngineOptions<Targets>): Promise<TrainingEngine<Targets>> {
    const weights = new Map<string, Float32Array>();
    for (const [name] of parameterShapes(config)) weights.set(name, Float32Array.from(initial.get(name)!));
    const session = await TrainingSession.create(config, options.objective, { batchSize: options.batchSize, sequenceLength: options.sequenceLength, threads: options.threads });
    return new TrainingEngine(config, weights, session, options);
  }

  get description(): string {
    return `engine: onnxruntime (native, ${this.threads} thread${this.threads === 1 ? '' : 's'})`;
  }

  /** Forward + backward over every micro-batch, gradients summed in order and averaged. */
  async gradients(microBatches: ReadonlyArray<EngineMicroBatch<Targets>>): Promise<StepGradients> {
    const { batchSize, sequenceLength } = this.options;
    const rows = batchSize * sequenceLength;
    const rowWeights = new Float32Array(rows).fill(1);
    let sums: Map<string, Float32Array> | undefined;
    let lossSum = 0;
    const metricSums: Record<string, number> = {};
    for (const batch of microBatches) {
      const { inputs, labels } = splitWindows(batch.tokens, batchSize, sequenceLength);
      const result = await this.session.run(this.weights, inputs, { rows, labels, rowWeights, targets: batch.targets });
      lossSum += result.loss;
      for (const [name, value] of Object.entries(result.metrics)) metricSums[name] = (metricSums[name] ?? 0) + value;
      if (!sums) sums = result.gradients;
      else {
        for (const [name, gradient] of result.gradients) {
          const sum = sums.get(name)!;
          for (let index = 0; index < sum.length; index++) sum[index] += gradient[index];
        }
      }
    }
    const count = microBatches.length;
    if (count > 1) for (const sum of sums!.values()) for (let index = 0; index < sum.length; index++) sum[index] /= count;
    const metrics = Object.fromEntries(Object.entries(metricSums).map(([name, sum]) => [name, sum / count]));
    return { loss: lossSum / count, metrics, gradients: sums! };
  }

  /** Global L2 norm of the gradients (NaN/Infinity when one is not finite). */
  norm(gradients: ReadonlyMap<string, Float32Array>): number {
    return globalNorm(gradients);
  }

  /** AdamW update with the gradients clipped to `clip` (their norm given, as `norm` returned it; clip 0: none). */
  apply(gradients: ReadonlyMap<string, Float32Array>, learningRate: number, norm: number, clip: number): void {
    this.optimizer.apply(gradients, learningRate, clipScale(norm, clip));
  }

  optimizerState(): Map<string, Float32Array> {
    return this.optimizer.state();
  }

  restore(state: ReadonlyMap<string, Float32Array>, step: number): void {
    this.optimizer.restore(state, step);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
