// The training engine: the student's weights and AdamW state as Float32Arrays, each
// micro-batch's gradients from a session (the onnxruntime training graph, native and
// multi-threaded, or TensorFlow.js when onnxruntime-node is not installed), accumulation,
// clipping and the update on the JavaScript side. The loop in train.ts drives it; checkpoints
// read `parameters` and `optimizerState()`, which are the same for both sessions.
import type { ModelConfig } from '../config.js';
import type { SoftTargets } from '../kd-divergence.js';
import { distillationEngineObjective } from '../kd-engine-objective.js';
import { parameterShapes } from '../model.js';
import { splitWindows } from '../step.js';
import { ArrayAdamW, clipScale, globalNorm, type AdamWSettings } from './adamw.js';
import { crossEntropyObjective, type EngineObjective, type ObjectiveBatch } from './objective.js';
import { TrainingSession, type MicroBatchResult } from './session.js';
import { TensorflowSession, type ObjectiveSpec } from './tensorflow-session.js';

export type { ObjectiveSpec } from './tensorflow-session.js';

/** The engines: onnxruntime (native, needs onnxruntime-node) and tensorflow (TensorFlow.js, always installed). */
export type EngineName = 'onnxruntime' | 'tensorflow';

/** A weight as checkpoints read it. */
export interface StoredParameter {
  readonly shape: number[];
  readonly size: number;
  dataSync(): Float32Array;
}

export interface EngineOptions extends AdamWSettings {
  objective: ObjectiveSpec;
  batchSize: number;
  sequenceLength: number;
  /** onnxruntime intra-op threads; results are bit-reproducible for a given count (the tensorflow engine runs its backend's own way). */
  threads: number;
  /** The TensorFlow.js backend the tensorflow engine runs on (its description names it). */
  backend?: string;
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

/** What computes one micro-batch's loss and gradients from the engine's weights. */
interface GradientSession {
  run(weights: ReadonlyMap<string, Float32Array>, inputs: Int32Array, batch: ObjectiveBatch<SoftTargets>): Promise<MicroBatchResult>;
  release(): Promise<void>;
}

/** The onnxruntime graph fragment of an objective. */
export function engineObjective(spec: ObjectiveSpec): EngineObjective<SoftTargets> {
  return spec.name === 'kd' ? distillationEngineObjective(spec.settings, spec.width) : (crossEntropyObjective as EngineObjective<SoftTargets>);
}

export class TrainingEngine {
  readonly parameters: ReadonlyMap<string, StoredParameter>;
  private readonly optimizer: ArrayAdamW;

  private constructor(
    readonly name: EngineName,
    readonly config: ModelConfig,
    private readonly weights: Map<string, Float32Array>,
    private readonly session: GradientSession,
    private readonly options: EngineOptions,
  ) {
    const shapes = new Map(parameterShapes(config));
    const stored = new Map<string, StoredParameter>();
    for (const [parameter, values] of weights) stored.set(parameter, { shape: shapes.get(parameter)!, size: values.length, dataSync: () => values });
    this.parameters = stored;
    this.optimizer = new ArrayAdamW(weights, new Set([...shapes].filter(([, shape]) => shape.length >= 2).map(([parameter]) => parameter)), options);
  }

  /** An engine of the named kind over copies of `initial` (checkpoint layout: projections input-major). */
  static async create(name: EngineName, config: ModelConfig, initial: ReadonlyMap<string, Float32Array>, options: EngineOptions): Promise<TrainingEngine> {
    const weights = new Map<string, Float32Array>();
    for (const [parameter] of parameterShapes(config)) weights.set(parameter, Float32Array.from(initial.get(parameter)!));
    const shape = { batchSize: options.batchSize, sequenceLength: options.sequenceLength };
    const session: GradientSession =
      name === 'onnxruntime'
        ? await TrainingSession.create(config, engineObjective(options.objective), { ...shape, threads: options.threads })
        : TensorflowSession.create(config, weights, options.objective, shape);
    return new TrainingEngine(name, config, weights, session, options);
  }

  /** Intra-op threads of onnxruntime; 1 for the tensorflow engine (its backend decides its own parallelism). */
  get threads(): number {
    return this.name === 'onnxruntime' ? this.options.threads : 1;
  }

  get description(): string {
    if (this.name === 'tensorflow') return `engine: tensorflow (TensorFlow.js on the ${this.options.backend ?? 'current'} backend; install onnxruntime-node for the faster onnxruntime engine)`;
    return `engine: onnxruntime (native, ${this.threads} thread${this.threads === 1 ? '' : 's'})`;
  }

  /** Forward + backward over every micro-batch, gradients summed in order and averaged. */
  async gradients(microBatches: ReadonlyArray<EngineMicroBatch<SoftTargets>>): Promise<StepGradients> {
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
      for (const [metric, value] of Object.entries(result.metrics)) metricSums[metric] = (metricSums[metric] ?? 0) + value;
      if (!sums) sums = result.gradients;
      else {
        for (const [parameter, gradient] of result.gradients) {
          const sum = sums.get(parameter)!;
          for (let index = 0; index < sum.length; index++) sum[index] += gradient[index];
        }
      }
    }
    const count = microBatches.length;
    if (count > 1) for (const sum of sums!.values()) for (let index = 0; index < sum.length; index++) sum[index] /= count;
    const metrics = Object.fromEntries(Object.entries(metricSums).map(([metric, sum]) => [metric, sum / count]));
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
