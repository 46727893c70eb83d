// The training loop: a student trained on a corpus with the chosen objective (next-token
// cross-entropy for now), AdamW with warmup + cosine, gradient clipping and accumulation,
// data prepared by a worker thread, atomic checkpoints and exact resume.
import { mkdir } from 'node:fs/promises';
import { Tokenizer } from 'tokenizers';
import { z } from 'zod';
import type { CorpusTask } from '@kd/teacher';
import { initializeBackend, type BackendInfo } from './backend.js';
import { openBatchStream, type BatchStream } from './batches.js';
import { checkpointPath, findCheckpoint, loadCheckpoint, saveCheckpoint, type RunSettings } from './checkpoint.js';
import { assessHealth, nonFiniteMessage, type CheckpointHealth } from './checkpoint-health.js';
import { resolveModelConfig, type ModelConfig } from './config.js';
import { TrainerError } from './errors.js';
import { createObjective } from './loss.js';
import { estimateTrainingMemory, formatBytes, memoryLimit } from './memory.js';
import { createModel, type LanguageModel } from './model.js';
import { AdamW, clipByGlobalNorm } from './optimizer.js';
import type { TrainProgress } from './progress.js';
import { learningRateAt } from './schedule.js';
import { readSpecialTokens } from './special-tokens.js';
import { accumulateGradients } from './step.js';

const corpusTasks = ['text', 'code', 'classify', 'translate'] as const;

/** The student's sizes; the vocabulary comes from the tokenizer. */
export const studentShapeSchema = z
  .object({
    hiddenSize: z.number().int().positive().default(256),
    intermediateSize: z.number().int().positive().optional(),
    layers: z.number().int().positive().default(2),
    heads: z.number().int().positive().default(4),
    keyValueHeads: z.number().int().positive().optional(),
    maxPositions: z.number().int().positive().default(1024),
    ropeTheta: z.number().positive().default(10000),
  })
  .strict();

export const trainOptionsSchema = z.object({
  corpus: z.string().min(1),
  tasks: z.array(z.enum(corpusTasks)).optional(),
  limit: z.number().int().positive().optional(),
  tokenizer: z.string().min(1),
  out: z.string().min(1),
  model: studentShapeSchema.prefault({}),
  objective: z.enum(['ce']).default('ce'),
  steps: z.number().int().positive(),
  batchSize: z.number().int().positive().default(8),
  sequenceLength: z.number().int().min(2).default(128),
  accumulate: z.number().int().positive().default(1),
  learningRate: z.number().positive().default(3e-3),
  minimumLearningRateRatio: z.number().min(0).max(1).default(0.1),
  warmupSteps: z.number().int().nonnegative().default(0),
  weightDecay: z.number().min(0).default(0.1),
  clip: z.number().min(0).default(1),
  seed: z.number().int().nonnegative().default(0),
  checkpointEvery: z.number().int().positive().default(100),
  resume: z.boolean().default(false),
  backend: z.enum(['auto', 'wasm']).default('auto'),
});

export type TrainOptionsInput = z.input<typeof trainOptionsSchema>;
type TrainSettings = z.output<typeof trainOptionsSchema>;

export interface TrainHooks {
  /** Called after every optimizer step. */
  onProgress?: (progress: TrainProgress) => void;
  /** Called once with the backend and the run's shape before the first step. */
  onStart?: (info: { backend: BackendInfo; config: ModelConfig; parameters: number; startStep: number; corpusTokens: number; memoryBytes: number }) => void;
  /** Stops after the current step: a checkpoint is written and `train` returns with `stopped`. */
  signal?: AbortSignal;
}

export interface TrainResult {
  backend: BackendInfo;
  config: ModelConfig;
  /** Last completed step. */
  step: number;
  /** Loss of every step from 1 to `step` (earlier runs of a resumed training included). */
  losses: number[];
  checkpoint: string;
  /** Step of the checkpoint on disk: earlier than `step` when the weights or loss went bad after it (a healthy checkpoint is never replaced by a diverged one). */
  checkpointStep: number;
  /** Health of that checkpoint. */
  checkpointHealth?: CheckpointHealth;
  stopped: boolean;
}

function parseOptions(input: TrainOptionsInput): TrainSettings {
  const parsed = trainOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TrainerError('E_OPTIONS', `train options: ${issue?.path.join('.') || 'value'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

function runSettings(options: TrainSettings): RunSettings {
  return {
    objective: options.objective,
    batchSize: options.batchSize,
    sequenceLength: options.sequenceLength,
    accumulate: options.accumulate,
    steps: options.steps,
    seed: options.seed,
    corpus: options.corpus,
    tasks: options.tasks,
    limit: options.limit,
  };
}

function sameSettings(a: RunSettings, b: RunSettings): string | undefined {
  for (const key of ['objective', 'batchSize', 'sequenceLength', 'accumulate', 'steps', 'seed', 'limit'] as const) {
    if (a[key] !== b[key]) return `${key} is ${String(b[key])} now but was ${String(a[key])}`;
  }
  if (JSON.stringify(a.tasks ?? null) !== JSON.stringify(b.tasks ?? null)) return 'tasks differ';
  return undefined;
}

/** Trains a student; resumes exactly from the run folder's checkpoint when `resume` is set. */
export async function train(input: TrainOptionsInput, hooks: TrainHooks = {}): Promise<TrainResult> {
  const options = parseOptions(input);
  const backend = await initializeBackend({ prefer: options.backend });
  const settings = runSettings(options);
  await mkdir(options.out, { recursive: true });
  const existing = await findCheckpoint(options.out);
  if (existing && !options.resume) {
    throw new TrainerError('E_CHECKPOINT', `${options.out} already holds a checkpoint; pass --resume to continue it or choose another --out`);
  }
  if (!existing && options.resume) {
    throw new TrainerError('E_CHECKPOINT', `--resume: no checkpoint in ${options.out}; start without --resume`);
  }

  let model: LanguageModel;
  let losses: number[] = [];
  let startStep = 0;
  let dataPosition = 0;
  let tokenizerPath = options.tokenizer;
  let optimizerState: Map<string, Float32Array> | undefined;
  let keptHealth: CheckpointHealth | undefined;
  if (existing) {
    const loaded = await loadCheckpoint(existing);
    const mismatch = sameSettings(loaded.state.settings, settings);
    if (mismatch) {
      loaded.model.dispose();
      throw new TrainerError('E_CHECKPOINT', `cannot resume ${options.out}: ${mismatch}; resume with the settings the run started with`);
    }
    model = loaded.model;
    losses = loaded.state.losses;
    startStep = loaded.state.step;
    dataPosition = loaded.state.dataPosition;
    optimizerState = loaded.optimizerState;
    tokenizerPath = loaded.tokenizerPath;
    keptHealth = loaded.state.health;
  } else {
    const special = await readSpecialTokens(options.tokenizer);
    let vocabSize: number;
    try {
      vocabSize = Tokenizer.fromFile(options.tokenizer).getVocabSize(true);
    } catch (cause) {
      throw new TrainerError('E_TOKENIZER', `${options.tokenizer}: not a loadable tokenizer.json`, { cause });
    }
    const shape = options.model;
    const config = resolveModelConfig({
      vocabSize,
      hiddenSize: shape.hiddenSize,
      intermediateSize: shape.intermediateSize ?? Math.ceil((shape.hiddenSize * 8) / 3 / 32) * 32,
      layers: shape.layers,
      heads: shape.heads,
      keyValueHeads: shape.keyValueHeads,
      maxPositions: Math.max(shape.maxPositions, options.sequenceLength),
      ropeTheta: shape.ropeTheta,
      bosTokenId: special.bos?.id,
      eosTokenId: special.eos?.id,
      padTokenId: special.pad?.id,
    });
    const estimate = estimateTrainingMemory(config, options.batchSize, options.sequenceLength, options.accumulate);
    const limit = memoryLimit(backend.name);
    if (estimate.totalBytes > limit) {
      throw new TrainerError(
        'E_MEMORY',
        `batch ${options.batchSize} × sequence ${options.sequenceLength} needs about ${formatBytes(estimate.totalBytes)} (${formatBytes(estimate.activationBytes)} activations + ${formatBytes(estimate.parameterBytes)} weights and optimizer state), more than the ${formatBytes(limit)} the ${backend.name} backend can use; lower --batch-size and raise --accumulate to keep the tokens per step`,
      );
    }
    model = createModel(config, { seed: options.seed });
  }

  const config = model.config;
  const special = { bos: config.bosTokenId, eos: config.eosTokenId };
  if (special.eos === undefined) {
    model.dispose();
    throw new TrainerError('E_TOKENIZER', `${tokenizerPath}: the model config has no end-of-document token id`);
  }
  const objective = createObjective(options.objective);
  const optimizer = new AdamW(model.parameters, { weightDecay: options.weightDecay });
  if (optimizerState) optimizer.restore(optimizerState, startStep);
  const memoryBytes = estimateTrainingMemory(config, options.batchSize, options.sequenceLength, options.accumulate).totalBytes;

  let stream: BatchStream | undefined;
  let lastCheckpoint = existing ?? '';
  let step = startStep;
  let stopped = false;
  let savedStep = existing ? startStep : -1;
  let keptStep = existing ? startStep : 0;
  /**
   * Writes the checkpoint of the current step. `nextLoss` is the loss these weights give on the
   * next batch (known when the save waited one forward pass): a checkpoint whose weights or loss
   * went bad is not written at a scheduled save, and never replaces a healthy one.
   */
  const save = async (scheduled: boolean, nextLoss?: number) => {
    savedStep = step;
    const health = assessHealth(model.parameters, losses, nextLoss);
    if (!health.healthy && (scheduled || keptHealth?.healthy)) {
      firstRejected ??= { step, health };
      return;
    }
    keptStep = step;
    keptHealth = health;
    lastCheckpoint = await saveCheckpoint(options.out, {
      model,
      optimizerState: optimizer.state(),
      tokenizerPath,
      state: { step, dataPosition, config, settings, losses, health },
    });
  };
  let pendingSave = false;
  let firstRejected: { step: number; health: CheckpointHealth } | undefined;
  try {
    stream = await openBatchStream({
      corpus: options.corpus,
      tasks: options.tasks as CorpusTask[] | undefined,
      limit: options.limit,
      tokenizerPath,
      sequenceLength: options.sequenceLength,
      batchSize: options.batchSize,
      seed: options.seed,
      startPosition: dataPosition,
      bosId: special.bos,
      eosId: special.eos,
    });
    hooks.onStart?.({ backend, config, parameters: [...model.parameters.values()].reduce((sum, value) => sum + value.size, 0), startStep, corpusTokens: stream.tokens, memoryBytes });
    const tokensPerStep = options.batchSize * options.sequenceLength * options.accumulate;
    const started = performance.now();
    while (step < options.steps) {
      if (hooks.signal?.aborted) {
        stopped = true;
        break;
      }
      const microBatches: Int32Array[] = [];
      for (let index = 0; index < options.accumulate; index++) microBatches.push((await stream.next()).tokens);
      const { loss, gradients } = accumulateGradients(model, objective, microBatches, options.batchSize, options.sequenceLength);
      const gradientNorm = clipByGlobalNorm(gradients, options.clip);
      if (pendingSave) {
        // The weights are still those of the step to save, and `loss` is what they give.
        pendingSave = false;
        await save(true, Number.isFinite(gradientNorm) ? loss : Number.NaN);
      }
      if (!Number.isFinite(loss) || !Number.isFinite(gradientNorm)) {
        for (const gradient of gradients.values()) gradient.dispose();
        const what = Number.isFinite(loss) ? `gradient norm is ${gradientNorm}` : `loss is ${loss}`;
        const kept = lastCheckpoint ? { path: lastCheckpoint, step: keptStep, health: keptHealth } : undefined;
        throw new TrainerError('E_NONFINITE_LOSS', nonFiniteMessage(step + 1, what, model.parameters, kept, firstRejected));
      }
      const learningRate = learningRateAt(step + 1, {
        peak: options.learningRate,
        warmupSteps: options.warmupSteps,
        totalSteps: options.steps,
        minimumRatio: options.minimumLearningRateRatio,
      });
      optimizer.apply(gradients, learningRate);
      for (const gradient of gradients.values()) gradient.dispose();
      step++;
      dataPosition += options.accumulate;
      losses.push(loss);
      const elapsedSeconds = (performance.now() - started) / 1000;
      const doneHere = step - startStep;
      hooks.onProgress?.({
        step,
        totalSteps: options.steps,
        loss,
        learningRate,
        tokensPerSecond: (doneHere * tokensPerStep) / Math.max(elapsedSeconds, 1e-9),
        elapsedSeconds,
        etaSeconds: (elapsedSeconds / doneHere) * (options.steps - step),
      });
      if (step === options.steps) await save(false);
      else if (step % options.checkpointEvery === 0) pendingSave = true;
    }
    if (stopped && savedStep !== step) await save(false);
  } finally {
    await stream?.close();
    optimizer.dispose();
    model.dispose();
  }
  return { backend, config, step, losses, checkpoint: lastCheckpoint || checkpointPath(options.out), checkpointStep: keptStep, checkpointHealth: keptHealth, stopped };
}
