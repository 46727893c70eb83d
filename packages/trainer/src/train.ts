// The training loop: a student trained with the chosen objective (next-token cross-entropy on
// a corpus, or distillation from teacher rows), AdamW with warmup + cosine, gradient clipping
// and accumulation, data prepared ahead of each step, atomic checkpoints and exact resume, and an
// optional held-out evaluation every `evalEvery` steps (held-out.ts). Steps run on the engine of
// src/engine: onnxruntime when onnxruntime-node is installed, else TensorFlow.js (`engine`);
// TensorFlow.js initializes the weights.
import { availableParallelism } from 'node:os';
import { mkdir } from 'node:fs/promises';
import { z } from 'zod';
import { assertTokenizerFits, corpusTasks, loadTokenizer, type Tokenizer } from '@kd/text';
import { initializeBackend, type BackendInfo } from './backend.js';
import { openBatchStream, type BatchStream } from './batches.js';
import { join } from 'node:path';
import { checkpointPath, findCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { assertSameSettings, corpusFingerprint, recordedDistillation, sha256OfPath, type RunSettings } from './run-settings.js';
import { assessHealth, nonFiniteMessage, type CheckpointHealth } from './checkpoint-health.js';
import { resolveModelConfig, type ModelConfig } from './config.js';
import { TrainerError } from './errors.js';
import { chooseEngine } from './engine/choose.js';
import { TrainingEngine, type EngineName, type ObjectiveSpec } from './engine/engine.js';
import type { TeacherRowSource } from './kd-batches.js';
import { batchesInThread, openLabelsBatches, type TeacherBatches } from './kd-batch-stream.js';
import { openVocabulary, studentEncoder } from './kd-data.js';
import { samplerOver, type SamplerSettings } from './kd-sampler.js';
import type { SoftTargets } from './kd-divergence.js';
import { distillationOptionsShape } from './kd-options.js';
import { estimateTrainingMemory, formatBytes, memoryLimit } from './memory.js';
import { createModel, type StudentModel } from './model.js';
import type { TrainProgress } from './progress.js';
import { learningRateAt } from './schedule.js';
import { HeldOutEvaluator, readHeldOut, type EvalPoint, type HeldOutSet } from './held-out.js';

/** Held-out tokens evaluated when `evalTokens` is not given: four batches of 8 × 128, a small cost beside the steps. */
const defaultEvalTokens = 4096;

/** The student's sizes; the vocabulary comes from the tokenizer. */
export const studentShapeSchema = z
  .object({
    hiddenSize: z.number().int().positive().default(256).describe('model width'),
    intermediateSize: z.number().int().positive().optional().describe('MLP width (default: about 8/3 × hiddenSize, rounded up to a multiple of 32)'),
    layers: z.number().int().positive().default(2).describe('decoder layers'),
    heads: z.number().int().positive().default(4).describe('attention heads'),
    keyValueHeads: z.number().int().positive().optional().describe('key/value heads; fewer than heads gives grouped-query attention (default: heads)'),
    maxPositions: z.number().int().positive().default(1024).describe('longest context the exported model accepts; at least sequenceLength'),
    ropeTheta: z.number().positive().default(10000).describe('base of the rotary position frequencies'),
  })
  .strict();

export const trainOptionsSchema = z
  .object({
    corpus: z.string().min(1).optional().describe('corpus: a .jsonl (text/code/classify/translate records) or .txt file, or a folder of them (objective ce; online kd)'),
    tasks: z.array(z.enum(corpusTasks)).optional().describe('train on these tasks only'),
    limit: z.number().int().positive().optional().describe('train on the first n documents only'),
    tokenizer: z.string().min(1).optional().describe("the student's tokenizer.json (its vocabulary sizes the model)"),
    studentTokenizer: z.string().min(1).optional().describe("the student's tokenizer.json (same as tokenizer)"),
    out: z.string().min(1).describe('run folder: checkpoint/ is written here'),
    model: studentShapeSchema.prefault({}).describe("the student's sizes"),
    objective: z.enum(['ce', 'kd']).default('ce').describe('ce: next-token cross-entropy; kd: distillation from teacher rows'),
    ...distillationOptionsShape,
    steps: z.number().int().positive().describe('optimizer steps in total'),
    batchSize: z.number().int().positive().default(8).describe('windows per micro-batch'),
    sequenceLength: z.number().int().min(2).default(128).describe('tokens per window'),
    accumulate: z.number().int().positive().default(1).describe('micro-batches per optimizer step (gradient accumulation)'),
    learningRate: z.number().positive().default(3e-3).describe('peak learning rate (AdamW)'),
    minimumLearningRateRatio: z.number().min(0).max(1).default(0.1).describe('learning rate at the end of the cosine, as a fraction of the peak'),
    warmupSteps: z.number().int().nonnegative().default(0).describe('linear warmup steps'),
    weightDecay: z.number().min(0).default(0.1).describe('AdamW decoupled weight decay on matrices'),
    clip: z.number().min(0).default(1).describe('clip the global gradient norm to this (0: off)'),
    seed: z.number().int().nonnegative().default(0).describe('seed of the initialization and the data order'),
    checkpointEvery: z.number().int().positive().default(100).describe('write a checkpoint every n steps (and at the end)'),
    evalCorpus: z.string().min(1).optional().describe("held-out text (.jsonl/.txt or a folder): the student's mean cross-entropy per token on it is recorded every evalEvery steps (the hard-label CE also with objective kd); default: no evaluation"),
    evalEvery: z.number().int().positive().optional().describe('evaluate on evalCorpus every n steps, and at step 0 and the last step (default: a tenth of steps, at least 1)'),
    evalTokens: z.number().int().positive().optional().describe(`target tokens of evalCorpus evaluated, its first documents framed as the training text (default ${defaultEvalTokens})`),
    resume: z.boolean().default(false).describe('continue the run in out exactly where its checkpoint left off'),
    engine: z
      .enum(['auto', 'onnxruntime', 'tensorflow'])
      .default('auto')
      .describe("training engine: auto takes onnxruntime when onnxruntime-node is installed (a resume keeps the run's engine), else tensorflow (TensorFlow.js)"),
    backend: z.enum(['auto', 'wasm']).default('auto').describe('TensorFlow.js backend: auto takes @tensorflow/tfjs-node when installed, else wasm'),
    threads: z.number().int().positive().optional().describe("onnxruntime intra-op threads (default: the checkpoint's count on resume, else the machine's cores)"),
  })
  .strict()
  .superRefine((options, context) => {
    const need = (path: string, message: string) => context.addIssue({ code: 'custom', path: [path], message });
    if (options.tokenizer === undefined && options.studentTokenizer === undefined) need('tokenizer', "is required: the student's tokenizer.json");
    if (options.tokenizer !== undefined && options.studentTokenizer !== undefined && options.tokenizer !== options.studentTokenizer) {
      need('studentTokenizer', 'names another file than `tokenizer`; give one of them');
    }
    if (options.evalEvery !== undefined && options.evalCorpus === undefined) need('evalEvery', 'needs `evalCorpus`: the held-out text to evaluate on');
    if (options.evalTokens !== undefined && options.evalCorpus === undefined) need('evalTokens', 'needs `evalCorpus`: the held-out text to evaluate on');
    if (options.objective === 'ce' && options.corpus === undefined) need('corpus', 'is required with `objective` ce');
    if (options.objective === 'kd') {
      // Online, the teacher folder holds its tokenizer (distillOnline passes it on).
      if (options.teacherTokenizer === undefined && options.teacher === undefined) need('teacherTokenizer', 'is required with `objective` kd and `labels`');
      if ((options.labels === undefined) === (options.teacher === undefined)) need('labels', '`objective` kd needs `labels` (offline) or `teacher` (online), one of them');
      if (options.teacher !== undefined && options.corpus === undefined) need('corpus', 'is required with `teacher` (online mode reads the corpus)');
    }
  });

export type TrainOptionsInput = z.input<typeof trainOptionsSchema>;
type TrainSettings = z.output<typeof trainOptionsSchema>;

/** What `train` is handed besides its options: teacher rows produced in memory (online mode). */
export interface TrainInputs {
  /** The rows an online teacher produces; required with `teacher`, built by @kd/pipeline. */
  teacherRows?: TeacherRowSource;
}

export interface TrainHooks {
  /** Called after every optimizer step. */
  onProgress?: (progress: TrainProgress) => void;
  /** Called after every held-out evaluation (with `evalCorpus`): the point, the tokens evaluated and the seconds it took. */
  onEvaluation?: (evaluation: EvalPoint & { tokens: number; seconds: number; totalSteps: number }) => void;
  /** Called once with the backend, the engine and the run's shape before the first step. */
  onStart?: (info: { backend: BackendInfo; engine: EngineInfo; config: ModelConfig; parameters: number; startStep: number; corpusTokens: number; memoryBytes: number }) => void;
  /** Stops after the current step: a checkpoint is written and `train` returns with `stopped`. */
  signal?: AbortSignal;
}

/** The engine that ran the steps. */
export interface EngineInfo {
  /** onnxruntime (native, with onnxruntime-node) or tensorflow (TensorFlow.js). */
  name: 'onnxruntime' | 'tensorflow';
  threads: number;
  description: string;
}

export interface TrainResult {
  backend: BackendInfo;
  engine: EngineInfo;
  config: ModelConfig;
  /** Last completed step. */
  step: number;
  /** Loss of every step from 1 to `step` (earlier runs of a resumed training included). */
  losses: number[];
  /** The eval curve (with `evalCorpus`): mean cross-entropy per held-out token at step 0, every `evalEvery` steps and the last step, earlier runs of a resumed training included; empty without `evalCorpus`. */
  evalLosses: EvalPoint[];
  /** Target tokens of each evaluation (0 without `evalCorpus`). */
  evalTokens: number;
  checkpoint: string;
  /** Step of the checkpoint on disk: earlier than `step` when the weights or loss went bad after it (a healthy checkpoint is never replaced by a diverged one). */
  checkpointStep: number;
  /** Health of that checkpoint. */
  checkpointHealth?: CheckpointHealth;
  stopped: boolean;
}

function parseOptions(input: TrainOptionsInput): TrainSettings {
  const parsed = trainOptionsSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) throw new TrainerError('E_OPTIONS', `train options: ${describeIssue(parsed.error.issues[0])}`);
  return parsed.data;
}

/** One zod issue as `path: problem` in the library's option names. */
function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'invalid';
  const where = issue.path.join('.');
  if (issue.code === 'unrecognized_keys') {
    return `unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `\`${where ? `${where}.` : ''}${key}\``).join(', ')}; the options are ${Object.keys(trainOptionsSchema.shape).join(', ')}`;
  }
  const given = 'input' in issue && issue.input !== undefined ? ` (got ${JSON.stringify(issue.input)})` : '';
  return `\`${where || 'options'}\`: ${issue.message}${given}`;
}

async function runSettings(options: TrainSettings, engine: EngineName, threads: number, studentTokenizer: string): Promise<RunSettings> {
  const distillation =
    options.objective === 'kd'
      ? recordedDistillation({ labels: options.labels, teacher: options.teacher, mapping: options.mapping, alpha: options.alpha, temperature: options.temperature, divergence: options.divergence, beta: options.beta, tail: options.tail, categories: options.categories, shuffleParts: options.shuffleParts })
      : undefined;
  return {
    distillation,
    objective: options.objective,
    engine,
    // The tensorflow engine's backend decides its own parallelism: no count to hold a resume to.
    threads: engine === 'onnxruntime' ? threads : undefined,
    batchSize: options.batchSize,
    sequenceLength: options.sequenceLength,
    accumulate: options.accumulate,
    steps: options.steps,
    seed: options.seed,
    corpus: options.corpus ?? options.labels ?? '',
    tasks: options.tasks,
    limit: options.limit,
    // Offline distillation reads labels: their manifest (part checksums included) identifies them.
    corpusSha256: options.corpus !== undefined ? await corpusFingerprint(options.corpus) : options.labels !== undefined ? await sha256OfPath(join(options.labels, 'manifest.json')).catch(() => undefined) : undefined,
    tokenizerSha256: await sha256OfPath(studentTokenizer).catch((cause) => {
      throw new TrainerError('E_TOKENIZER', `${studentTokenizer}: cannot read the tokenizer (${(cause as Error).message})`, { cause });
    }),
    model: { ...options.model },
    learningRate: options.learningRate,
    minimumLearningRateRatio: options.minimumLearningRateRatio,
    warmupSteps: options.warmupSteps,
    weightDecay: options.weightDecay,
    clip: options.clip,
    // Filled in once the held-out set is cut (it needs the model's marker ids).
    evaluation: null,
  };
}

/** The evaluation's settings as the resume contract records them: the held-out tokens' fingerprint, not the path. */
function evaluationSettings(options: TrainSettings, set: HeldOutSet | undefined): RunSettings['evaluation'] {
  if (!set) return null;
  return { every: evalEveryOf(options), tokens: set.tokens, heldOutSha256: set.sha256 };
}

function evalEveryOf(options: TrainSettings): number {
  return options.evalEvery ?? Math.max(1, Math.round(options.steps / 10));
}

/** Cuts the held-out set of a run with `evalCorpus` (undefined without one). */
async function heldOutOf(options: TrainSettings, tokenizerPath: string, config: ModelConfig): Promise<HeldOutSet | undefined> {
  // Without an end-of-document id the run is refused below, before any evaluation.
  if (options.evalCorpus === undefined || config.eosTokenId === undefined) return undefined;
  return readHeldOut({
    corpus: options.evalCorpus,
    tasks: options.tasks,
    tokenizerPath,
    bosId: config.bosTokenId,
    eosId: config.eosTokenId!,
    tokens: options.evalTokens ?? defaultEvalTokens,
    sequenceLength: options.sequenceLength,
  });
}

/** Opens the teacher rows of a kd run: labels offline (through the batch worker), or the source handed in online. */
async function openTeacherBatches(options: TrainSettings, studentTokenizer: string, modelVocab: number, inputs: TrainInputs): Promise<TeacherBatches> {
  const settings: SamplerSettings = {
    teacherTokenizer: options.teacherTokenizer!,
    studentTokenizer,
    map: options.map,
    mapping: options.mapping,
    mapCacheDir: options.mapCacheDir,
    sequenceLength: options.sequenceLength,
    batchSize: options.batchSize,
    seed: options.seed,
    tail: options.tail,
    categories: options.categories,
    shuffleParts: options.shuffleParts,
  };
  let batches: TeacherBatches;
  if (options.labels !== undefined) batches = await openLabelsBatches(options.labels, settings);
  else {
    const { map, student } = await openVocabulary(settings);
    const source = inputs.teacherRows!;
    source.useVocabulary?.(map.teacherToStudent, student.vocabSize);
    if (source.width === undefined) throw new TrainerError('E_OPTIONS', 'train: an online teacher row source must say its width (the most ids a row keeps)');
    batches = batchesInThread(await samplerOver(source, studentEncoder(student), map, source.width, source.sampled === true, settings));
  }
  try {
    if (batches.studentVocabSize > modelVocab) {
      throw new TrainerError('E_TOKENIZER', `the student tokenizer has ${batches.studentVocabSize} ids but the model ${modelVocab}; use the tokenizer the model was built with`);
    }
    if (batches.sampled && options.divergence !== 'forward-kl') {
      throw new TrainerError('E_OPTIONS', `train options: divergence: sampled teacher rows are an unbiased estimate only under forward-kl (linear in the teacher); got ${options.divergence}`);
    }
  } catch (error) {
    await batches.close();
    throw error;
  }
  return batches;
}

/** Trains a student; resumes exactly from the run folder's checkpoint when `resume` is set. */
export async function train(input: TrainOptionsInput, hooks: TrainHooks = {}, inputs: TrainInputs = {}): Promise<TrainResult> {
  const options = parseOptions(input);
  const studentTokenizer = (options.studentTokenizer ?? options.tokenizer)!;
  if (options.teacher !== undefined && inputs.teacherRows === undefined) {
    throw new TrainerError('E_OPTIONS', 'train options: teacher: online distillation needs the teacher rows from @kd/pipeline (distillOnline); train alone reads labels');
  }
  const backend = await initializeBackend({ prefer: options.backend });
  await mkdir(options.out, { recursive: true });
  const existing = await findCheckpoint(options.out);
  if (existing && !options.resume) {
    throw new TrainerError('E_CHECKPOINT', `${options.out} already holds a checkpoint; set \`resume\` to continue it or choose another \`out\``);
  }
  if (!existing && options.resume) {
    throw new TrainerError('E_CHECKPOINT', `\`resume\`: no checkpoint in ${options.out}; start without \`resume\``);
  }

  let model: StudentModel;
  let losses: number[] = [];
  let evalLosses: EvalPoint[] = [];
  let heldOut: HeldOutSet | undefined;
  let startStep = 0;
  let dataPosition = 0;
  let tokenizerPath = studentTokenizer;
  let optimizerState: Map<string, Float32Array> | undefined;
  let keptHealth: CheckpointHealth | undefined;
  let settings: RunSettings;
  let engineName: EngineName;
  if (existing) {
    const loaded = await loadCheckpoint(existing);
    // A tokenizer whose ids do not fit the checkpoint's logits is refused first, by name, before
    // the settings comparison (which also refuses any other tokenizer) and before any step.
    try {
      assertTokenizerFits(await loadTokenizer(studentTokenizer), loaded.model.config.vocabSize, { model: existing });
    } catch (error) {
      loaded.model.dispose();
      throw error;
    }
    const recorded = loaded.state.settings;
    // The thread count is part of what makes a resumed run equal an uninterrupted one.
    try {
      engineName = await chooseEngine(options.engine, recorded.engine);
    } catch (error) {
      loaded.model.dispose();
      throw error;
    }
    settings = await runSettings(options, engineName, options.threads ?? recorded.threads ?? availableParallelism(), studentTokenizer);
    try {
      heldOut = await heldOutOf(options, loaded.tokenizerPath, loaded.state.config);
      settings.evaluation = evaluationSettings(options, heldOut);
      assertSameSettings(options.out, recorded, settings);
    } catch (error) {
      loaded.model.dispose();
      throw error;
    }
    // The recorded corpus path stays: the content is what was compared.
    settings = { ...settings, corpus: recorded.corpus };
    model = loaded.model;
    losses = loaded.state.losses;
    evalLosses = loaded.state.evalLosses ?? [];
    startStep = loaded.state.step;
    dataPosition = loaded.state.dataPosition;
    optimizerState = loaded.optimizerState;
    tokenizerPath = loaded.tokenizerPath;
    keptHealth = loaded.state.health;
  } else {
    engineName = await chooseEngine(options.engine);
    settings = await runSettings(options, engineName, options.threads ?? availableParallelism(), studentTokenizer);
    const tokenizer = await loadTokenizer(studentTokenizer);
    const vocabSize = tokenizer.vocabSize;
    const shape = options.model;
    if (shape.maxPositions < options.sequenceLength) {
      throw new TrainerError('E_OPTIONS', `\`model.maxPositions\` is ${shape.maxPositions} but \`sequenceLength\` is ${options.sequenceLength}: the model could not read its own training windows; raise \`model.maxPositions\` to at least ${options.sequenceLength} or lower \`sequenceLength\``);
    }
    const config = resolveModelConfig({
      vocabSize,
      hiddenSize: shape.hiddenSize,
      intermediateSize: shape.intermediateSize ?? Math.ceil((shape.hiddenSize * 8) / 3 / 32) * 32,
      layers: shape.layers,
      heads: shape.heads,
      keyValueHeads: shape.keyValueHeads,
      maxPositions: shape.maxPositions,
      ropeTheta: shape.ropeTheta,
      bosTokenId: tokenizer.roles.bos,
      eosTokenId: tokenizer.roles.eos,
      padTokenId: tokenizer.roles.pad,
    });
    const estimate = estimateTrainingMemory(config, options.batchSize, options.sequenceLength, options.accumulate);
    const limit = memoryLimit(engineName === 'onnxruntime' ? 'onnxruntime' : backend.name);
    if (estimate.totalBytes > limit) {
      throw new TrainerError(
        'E_MEMORY',
        `batch ${options.batchSize} × sequence ${options.sequenceLength} needs about ${formatBytes(estimate.totalBytes)} (${formatBytes(estimate.activationBytes)} activations + ${formatBytes(estimate.parameterBytes)} weights and optimizer state), more than the ${formatBytes(limit)} the ${engineName === 'onnxruntime' ? 'onnxruntime engine' : `tensorflow engine (${backend.name} backend)`} can use; lower \`batchSize\` and raise \`accumulate\` to keep the tokens per step`,
      );
    }
    model = createModel(config, { seed: options.seed });
    try {
      heldOut = await heldOutOf(options, studentTokenizer, config);
    } catch (error) {
      model.dispose();
      throw error;
    }
    settings.evaluation = evaluationSettings(options, heldOut);
  }

  const config = model.config;
  const special = { bos: config.bosTokenId, eos: config.eosTokenId };
  if (special.eos === undefined) {
    model.dispose();
    throw new TrainerError('E_TOKENIZER', `${tokenizerPath}: no end-of-document token (tokenizer_config.json eos_token, the post-processor template or a special </s>-style token); add one so documents can be separated`);
  }
  let sampler: TeacherBatches | undefined;
  if (options.objective === 'kd') {
    try {
      sampler = await openTeacherBatches(options, tokenizerPath, config.vocabSize, inputs);
    } catch (error) {
      model.dispose();
      throw error;
    }
  }
  const objective: ObjectiveSpec =
    options.objective === 'kd'
      ? { name: 'kd', settings: { alpha: options.alpha, temperature: options.temperature, divergence: options.divergence, beta: options.beta, categories: options.categories }, width: sampler!.width }
      : { name: 'ce' };
  const initial = new Map([...model.parameters].map(([name, variable]) => [name, (variable.dataSync() as Float32Array).slice()]));
  model.dispose();
  let engine: TrainingEngine;
  let evaluator: HeldOutEvaluator | undefined;
  try {
    engine = await TrainingEngine.create(engineName, config, initial, {
      objective,
      batchSize: options.batchSize,
      sequenceLength: options.sequenceLength,
      threads: settings.threads ?? 1,
      weightDecay: options.weightDecay,
      backend: backend.name,
    });
    if (optimizerState) engine.restore(optimizerState, startStep);
    if (heldOut) evaluator = await HeldOutEvaluator.create(config, heldOut, { engine: engineName, initial, batchSize: options.batchSize, sequenceLength: options.sequenceLength, threads: settings.threads ?? 1 });
  } catch (cause) {
    await sampler?.close();
    if (cause instanceof TrainerError) throw cause;
    throw new TrainerError('E_BACKEND', `the ${engineName} engine failed to start: ${(cause as Error).message}`, { cause });
  }
  const engineInfo: EngineInfo = { name: engine.name, threads: engine.threads, description: engine.description };
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
    const health = assessHealth(engine.parameters, losses, nextLoss);
    if (!health.healthy && (scheduled || keptHealth?.healthy)) {
      firstRejected ??= { step, health };
      return;
    }
    keptStep = step;
    keptHealth = health;
    lastCheckpoint = await saveCheckpoint(options.out, {
      model: engine,
      optimizerState: engine.optimizerState(),
      tokenizerPath,
      state: { step, dataPosition, config, settings, losses, evalLosses, health },
    });
  };
  const evalEvery = evalEveryOf(options);
  const weights = new Map([...engine.parameters].map(([name, parameter]) => [name, parameter.dataSync()]));
  /** Evaluates the current weights on the held-out set when the step is due (0, every evalEvery, the last). */
  const evaluate = async () => {
    if (!evaluator || !(step === 0 || step % evalEvery === 0 || step === options.steps)) return;
    if (evalLosses.at(-1)?.step === step) return;
    const began = performance.now();
    const loss = await evaluator.measure(weights);
    evalLosses.push({ step, loss });
    hooks.onEvaluation?.({ step, loss, tokens: evaluator.tokens, seconds: (performance.now() - began) / 1000, totalSteps: options.steps });
  };
  let pendingSave = false;
  let firstRejected: { step: number; health: CheckpointHealth } | undefined;
  try {
    if (!sampler) stream = await openBatchStream({
      corpus: options.corpus!,
      tasks: options.tasks,
      limit: options.limit,
      tokenizerPath,
      sequenceLength: options.sequenceLength,
      batchSize: options.batchSize,
      seed: options.seed,
      startPosition: dataPosition,
      bosId: special.bos,
      eosId: special.eos,
    });
    hooks.onStart?.({ backend, engine: engineInfo, config, parameters: [...engine.parameters.values()].reduce((sum, value) => sum + value.size, 0), startStep, corpusTokens: sampler?.tokens ?? stream!.tokens, memoryBytes });
    const tokensPerStep = options.batchSize * options.sequenceLength * options.accumulate;
    await evaluate();
    const started = performance.now();
    while (step < options.steps) {
      if (hooks.signal?.aborted) {
        stopped = true;
        break;
      }
      const microBatches: { tokens: Int32Array; targets?: SoftTargets }[] = [];
      for (let index = 0; index < options.accumulate; index++) {
        if (sampler) {
          const batch = await sampler.batchAt(dataPosition + index);
          microBatches.push({ tokens: batch.tokens, targets: batch.targets });
        } else microBatches.push({ tokens: (await stream!.next()).tokens });
      }
      const { loss, gradients } = await engine.gradients(microBatches);
      const gradientNorm = engine.norm(gradients);
      if (pendingSave) {
        // The weights are still those of the step to save, and `loss` is what they give.
        pendingSave = false;
        await save(true, Number.isFinite(gradientNorm) ? loss : Number.NaN);
      }
      if (!Number.isFinite(loss) || !Number.isFinite(gradientNorm)) {
        const what = Number.isFinite(loss) ? `gradient norm is ${gradientNorm}` : `loss is ${loss}`;
        const kept = lastCheckpoint ? { path: lastCheckpoint, step: keptStep, health: keptHealth } : undefined;
        throw new TrainerError('E_NONFINITE_LOSS', nonFiniteMessage(step + 1, what, engine.parameters, kept, firstRejected));
      }
      const learningRate = learningRateAt(step + 1, {
        peak: options.learningRate,
        warmupSteps: options.warmupSteps,
        totalSteps: options.steps,
        minimumRatio: options.minimumLearningRateRatio,
      });
      engine.apply(gradients, learningRate, gradientNorm, options.clip);
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
      await evaluate();
      if (step === options.steps) await save(false);
      else if (step % options.checkpointEvery === 0) pendingSave = true;
    }
    if (stopped && savedStep !== step) await save(false);
  } finally {
    await stream?.close();
    await sampler?.close();
    await engine.release();
    await evaluator?.release();
  }
  return { backend, engine: engineInfo, config, step, losses, evalLosses, evalTokens: evaluator?.tokens ?? 0, checkpoint: lastCheckpoint || checkpointPath(options.out), checkpointStep: keptStep, checkpointHealth: keptHealth, stopped };
}
