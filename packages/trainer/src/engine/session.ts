// Runs the training graph under onnxruntime-node: weights and a micro-batch in, loss and
// gradients out, as typed arrays. The thread count is fixed when the session is created
// (results are bit-reproducible for a given count, so it is part of a run's settings).
import type * as ort from 'onnxruntime-node';
import type { ModelConfig } from '../config.js';
import { TrainerError } from '../errors.js';
import { parameterShapes } from '../model.js';
import type { EngineObjective, EngineTensor, ObjectiveBatch } from './objective.js';
import { loadOnnxruntime, type OnnxruntimeModule } from './onnxruntime.js';
import { buildTrainingGraph, gradientName, type TrainingGraphShape } from './training-graph.js';

export interface MicroBatchResult {
  loss: number;
  metrics: Record<string, number>;
  /** One gradient per weight name (fresh arrays owned by the caller); empty for a forward-only session. */
  gradients: Map<string, Float32Array>;
}

export interface TrainingSessionOptions extends TrainingGraphShape {
  /** Intra-op threads of onnxruntime (default 2). */
  threads?: number;
  /** Writes onnxruntime's per-operator profile to `<prefix>_<date>.json` (benchmarks). */
  profilePrefix?: string;
}


export class TrainingSession<Targets = unknown> {
  readonly threads: number;
  private constructor(
    private readonly runtime: OnnxruntimeModule,
    private readonly session: ort.InferenceSession,
    private readonly objective: EngineObjective<Targets>,
    private readonly weightNames: string[],
    private readonly weightShapes: Map<string, number[]>,
    private readonly metricNames: string[],
    readonly shape: TrainingGraphShape,
    threads: number,
  ) {
    this.threads = threads;
  }

  static async create<Targets>(config: ModelConfig, objective: EngineObjective<Targets>, options: TrainingSessionOptions): Promise<TrainingSession<Targets>> {
    const threads = options.threads ?? 2;
    const runtime = await loadOnnxruntime();
    const graph = buildTrainingGraph(config, options, objective as EngineObjective);
    let session: ort.InferenceSession;
    try {
      session = await runtime.InferenceSession.create(graph.bytes, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        // Errors only: onnxruntime's warnings (e.g. about constants the optimizer folded away)
        // are not the user's to act on; its errors still become TrainerErrors below.
        logSeverityLevel: 3,
        ...(options.profilePrefix ? { enableProfiling: true, profileFilePrefix: options.profilePrefix } : {}),
      });
    } catch (cause) {
      throw new TrainerError('E_BACKEND', `onnxruntime could not load the training graph: ${(cause as Error).message}`, { cause });
    }
    const shapes = new Map(parameterShapes(config));
    return new TrainingSession(runtime, session, objective, graph.weights, shapes, graph.metrics, { batchSize: options.batchSize, sequenceLength: options.sequenceLength, forwardOnly: options.forwardOnly }, threads);
  }

  /** Forward + backward of one micro-batch: inputs and labels int32 [batch × sequence]. */
  async run(weights: ReadonlyMap<string, Float32Array>, inputs: Int32Array, batch: ObjectiveBatch<Targets>): Promise<MicroBatchResult> {
    const rows = this.shape.batchSize * this.shape.sequenceLength;
    const { Tensor } = this.runtime;
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of this.weightNames) feeds[name] = new Tensor('float32', weights.get(name)!, this.weightShapes.get(name)!);
    feeds.input_ids = new Tensor('int64', BigInt64Array.from(inputs, (id) => BigInt(id)), [rows]);
    feeds.labels = new Tensor('int64', BigInt64Array.from(batch.labels, (id) => BigInt(id)), [rows, 1]);
    feeds.row_weights = new Tensor('float32', batch.rowWeights, [rows]);
    for (const [name, tensor] of Object.entries(this.objective.feeds(batch))) feeds[name] = new Tensor(tensor.type, tensor.data, tensor.dims as number[]);
    const results = await this.session.run(feeds);
    const gradients = new Map<string, Float32Array>();
    if (!this.shape.forwardOnly) for (const name of this.weightNames) gradients.set(name, results[gradientName(name)].data as Float32Array);
    const metrics: Record<string, number> = {};
    for (const name of this.metricNames) metrics[name] = (results[`metric.${name}`].data as Float32Array)[0];
    return { loss: (results.loss.data as Float32Array)[0], metrics, gradients };
  }

  /** Ends profiling (when asked for) and frees the session. */
  async release(): Promise<void> {
    this.session.endProfiling();
    await this.session.release();
  }
}
