// Loading a teacher: the ONNX causal LM and its tokenizer from one folder, the fast-path
// session (top-k probabilities computed inside the graph), and on demand a second session on
// the original graph for full logits.
import { createHash } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { validateSpec, type CompressionSpec, type LabelledDocument, type SparseRows } from '@kd/compress';
import { cacheShapeHints, isReadableLogitsType, logitsAsFloat32 } from '@kd/lm-signature';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { assertTokenizerFits, loadTokenizer, type CorpusDocument, type Tokenizer } from '@kd/text';
import { z } from 'zod';
import { executionProviders, type TeacherDevice } from './device.js';
import { TeacherError } from './errors.js';
import { buildFeeds, type PaddedBatch } from './feeds.js';
import { identityFold, type DistributionFold } from './full-rows.js';
import { appendSoftmax, appendTopK, decodeModel, type GraphSampling } from './graph.js';
import { labelTokenized, type LabelOptions, type LabelSettings, type TopKRunner } from './label.js';
import { readSignature, type ModelSignature } from './signature.js';
import { checkWindowOptions } from './windows.js';

export interface LoadTeacherOptions {
  /** Softmax temperature τ applied to the logits (default 1). */
  temperature?: number;
  /**
   * Candidates the fast path returns per position (default: what each label call's spec
   * needs: k, or kMax in adaptive mode). A spec that needs more is refused.
   */
  topK?: number;
  /** onnxruntime intra-op threads (default 2). */
  threads?: number;
  /** Execution provider: 'cpu' (default) or 'cuda' (refused with E_DEVICE where onnxruntime-node's CUDA provider is not installed). */
  device?: TeacherDevice;
  /** Logits beyond the tokenizer's vocabulary accepted as embedding padding (default 1024); more means the tokenizer is another model's. */
  maxVocabPadding?: number;
}

/** Windowing and batching of `labelFull`, and how its rows are folded. */
export interface FullLabelOptions extends Omit<LabelOptions, 'spec'> {
  fold?: DistributionFold;
}

export type TokenIdArray = Int32Array | BigInt64Array;
export type AttentionMaskArray = Int32Array | BigInt64Array | Uint8Array;

export interface Teacher {
  readonly modelPath: string;
  readonly modelSha256: string;
  readonly tokenizerSha256: string;
  /** Rows of the logits (and the range of every id in a sparse row). */
  readonly vocabSize: number;
  /** Longest sequence the model was built for: config.json max_position_embeddings, else 2048. */
  readonly contextLength: number;
  readonly temperature: number;
  readonly signature: ModelSignature;
  /** The teacher's tokenizer (from @kd/text): its roles frame every labelled document. */
  readonly tokenizer: Tokenizer;
  /** Tokenizes (BOS + tokens + EOS), windows, batches and labels documents; yields them in input order. */
  label(documents: AsyncIterable<CorpusDocument> | Iterable<CorpusDocument>, options: LabelOptions): AsyncGenerator<LabelledDocument>;
  /**
   * Like `label`, but every row is the position's whole softmax at τ (no selection): folded by
   * `fold` when given (one entry per column, e.g. per student id of a vocabulary map), else one
   * entry per teacher id in id order. The run returns the softmax itself (no TopK sorts it).
   */
  labelFull(documents: AsyncIterable<CorpusDocument> | Iterable<CorpusDocument>, options?: FullLabelOptions): AsyncGenerator<LabelledDocument>;
  /** Labels exactly these ids (no BOS or EOS added): row t is the distribution after ids[0..t]. */
  labelTokenIds(ids: ArrayLike<number>, options: LabelOptions): Promise<SparseRows>;
  /** Full logits [batch, sequence, vocabSize] of the original graph (no temperature), for baselines and fidelity checks. */
  forwardLogits(inputIds: TokenIdArray, attentionMask: AttentionMaskArray | undefined, batch: number, sequence: number): Promise<Float32Array>;
  close(): Promise<void>;
}

const configSchema = z
  .object({
    max_position_embeddings: z.number().int().positive().optional(),
    vocab_size: z.number().int().positive().optional(),
    num_attention_heads: z.number().int().positive().optional(),
    num_key_value_heads: z.number().int().positive().optional(),
    hidden_size: z.number().int().positive().optional(),
    head_dim: z.number().int().positive().nullable().optional(),
  })
  .loose();
type ModelConfig = z.infer<typeof configSchema>;

const defaultContextLength = 2048;

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function readConfig(dir: string): Promise<ModelConfig> {
  const path = join(dir, 'config.json');
  if (!(await exists(path))) return {};
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new TeacherError('E_MODEL_FORMAT', `${path}: not valid JSON; fix or remove the file`, { cause });
  }
  const parsed = configSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TeacherError('E_MODEL_FORMAT', `${path}: ${issue?.path.join('.')}: ${issue?.message}; expected a Hugging Face config.json`);
  }
  return parsed.data;
}

function checkPositive(name: string, value: number, integer: boolean): void {
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new TeacherError('E_OPTIONS', `${name} must be a positive ${integer ? 'integer' : 'finite number'}, got ${value}`);
  }
}

/** Loads the teacher in `dir`: `model.onnx` (or `onnx/model.onnx`), `tokenizer.json`, optional `config.json`. */
/** onnxruntime log severity 4: fatal only (0 verbose … 3 error). */
const quietLogLevel = 4;

/** Runs a session with onnxruntime's logging kept off stderr; a failure inside the graph becomes E_MODEL_RUN. */
async function runSession(session: InferenceSession, feeds: InferenceSession.FeedsType, fetches: string[] | undefined, modelPath: string): Promise<InferenceSession.ReturnType> {
  const runOptions: InferenceSession.RunOptions = { logSeverityLevel: quietLogLevel };
  try {
    return fetches ? await session.run(feeds, fetches, runOptions) : await session.run(feeds, runOptions);
  } catch (cause) {
    throw new TeacherError('E_MODEL_RUN', `${modelPath}: onnxruntime failed while running the model: ${(cause as Error).message}`, { cause });
  }
}

export async function loadTeacher(dir: string, options: LoadTeacherOptions = {}): Promise<Teacher> {
  const temperature = options.temperature ?? 1;
  const threads = options.threads ?? 2;
  checkPositive('temperature', temperature, false);
  checkPositive('threads', threads, true);
  // A device this installation cannot use is refused before the model is read.
  const device = options.device ?? 'cpu';
  const providers = executionProviders(device);
  if (options.topK !== undefined) checkPositive('topK', options.topK, true);

  const candidates = [join(dir, 'model.onnx'), join(dir, 'onnx', 'model.onnx')];
  let modelPath: string | undefined;
  for (const candidate of candidates) if (!modelPath && (await exists(candidate))) modelPath = candidate;
  if (!modelPath) throw new TeacherError('E_MODEL_NOT_FOUND', `no ONNX model in ${dir}: looked for ${candidates.join(' and ')}`);
  const tokenizerPath = join(dir, 'tokenizer.json');
  if (!(await exists(tokenizerPath))) {
    throw new TeacherError('E_TOKENIZER_NOT_FOUND', `no tokenizer.json in ${dir}; save the teacher's tokenizer there (tokenizer.save_pretrained)`);
  }
  const config = await readConfig(dir);
  // Document roles come from the tokenizer's own files (@kd/text), the source every package
  // that reads these rows uses, not from the model's config.json.
  const tokenizer = await loadTokenizer(tokenizerPath);
  const tokenizerSha256 = tokenizer.sha256;

  // The graph is decoded from bytes already in memory, so hashing them there costs no extra read.
  const modelBytes = await readFile(modelPath);
  const modelSha256 = createHash('sha256').update(modelBytes).digest('hex');
  const model = decodeModel(modelBytes, modelPath);
  const signature = readSignature(model, modelPath, cacheShapeHints(config));
  // Refused before any session is built: ids beyond the logits would label nonsense.
  const logitsWidth = signature.vocabSize ?? config.vocab_size;
  if (logitsWidth !== undefined) assertTokenizerFits(tokenizer, logitsWidth, { model: modelPath, maxPadding: options.maxVocabPadding });
  const vocabSize = logitsWidth ?? tokenizer.vocabSize;
  const contextLength = config.max_position_embeddings ?? defaultContextLength;
  const fast = appendTopK(model, signature, temperature, modelPath);

  const sessionOptions: InferenceSession.SessionOptions = {
    executionProviders: providers,
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    // onnxruntime's own logger writes ANSI-coloured C++ lines straight to stderr; its errors
    // reach the caller as TeacherError instead, so only fatal messages are let through.
    logSeverityLevel: quietLogLevel,
  };
  const createSession = async (source: string | Uint8Array): Promise<InferenceSession> => {
    try {
      return typeof source === 'string' ? await InferenceSession.create(source, sessionOptions) : await InferenceSession.create(source, sessionOptions);
    } catch (cause) {
      if (device !== 'cpu') throw new TeacherError('E_DEVICE', `${modelPath}: onnxruntime could not start a session on device ${device} (${(cause as Error).message}); check the GPU driver and CUDA libraries, or use device cpu`, { cause });
      throw new TeacherError('E_MODEL_FORMAT', `${modelPath}: onnxruntime could not load the model (${(cause as Error).message})`, { cause });
    }
  };
  const fastSession = await createSession(fast.bytes);
  let fullSession: Promise<InferenceSession> | undefined;
  // Sampled specs draw inside the graph; the draw count, proposal temperature and seed are
  // attributes of its Multinomial node, so each combination gets a session of its own.
  const samplingSessions = new Map<string, Promise<{ session: InferenceSession; names: typeof fast.names }>>();

  const runnerOn =
    (session: InferenceSession, names: typeof fast.names): TopKRunner =>
    async (batch, k) => {
      const feeds = buildFeeds(signature, batch);
      feeds[names.k] = new Tensor('int64', BigInt64Array.of(BigInt(k)), [1]);
      const result = await runSession(session, feeds, undefined, modelPath);
      return {
        probabilities: result[names.probabilities].data as Float32Array,
        ids: result[names.ids].data as Int32Array,
        sampleIds: names.sampleIds ? (result[names.sampleIds].data as Int32Array) : undefined,
        sampleWeights: names.sampleWeights ? (result[names.sampleWeights].data as Float32Array) : undefined,
      };
    };
  const runTopK = runnerOn(fastSession, fast.names);

  const runnerFor = async (spec: CompressionSpec): Promise<TopKRunner> => {
    if (spec.mode !== 'sampled' && spec.mode !== 'hybrid') return runTopK;
    const sampling: GraphSampling = { samples: spec.samples, proposalTemperature: spec.proposalTemperature, seed: spec.seed, excludeTopK: spec.mode === 'hybrid' };
    const key = JSON.stringify(sampling);
    let entry = samplingSessions.get(key);
    if (!entry) {
      entry = (async () => {
        const graph = appendTopK(decodeModel(modelBytes, modelPath!), signature, temperature, modelPath!, sampling);
        return { session: await createSession(graph.bytes), names: graph.names };
      })();
      samplingSessions.set(key, entry);
    }
    const { session, names } = await entry;
    return runnerOn(session, names);
  };

  const batchSettingsFor = (labelOptions: Omit<LabelOptions, 'spec'>) => {
    const window = labelOptions.window ?? Math.min(contextLength, 1024);
    const stride = labelOptions.stride ?? Math.max(1, Math.floor(window / 2));
    const batchSize = labelOptions.batchSize ?? 64;
    // A window longer than the budget still runs, alone in its batch.
    const batchTokens = labelOptions.batchTokens ?? 2048;
    checkWindowOptions(window, stride, contextLength);
    checkPositive('batchSize', batchSize, true);
    checkPositive('batchTokens', batchTokens, true);
    return { vocabSize, window, stride, batchSize, batchTokens, padId: tokenizer.roles.eos ?? 0, onBatch: labelOptions.onBatch };
  };
  const settingsFor = (labelOptions: LabelOptions): LabelSettings => {
    const spec: CompressionSpec = validateSpec(labelOptions.spec, vocabSize);
    // Sampled rows need no candidates (the draws come from the graph): one keeps the head cheap.
    const needed = spec.mode === 'fixed' ? spec.k : spec.mode === 'sampled' ? 1 : Math.min(spec.kMax, vocabSize);
    const k = options.topK ?? needed;
    if (k < needed) {
      throw new TeacherError('E_OPTIONS', `the spec keeps up to ${needed} probabilities per position but the teacher was loaded with topK ${k}; load it with topK ≥ ${needed} or lower k/kMax`);
    }
    return { ...batchSettingsFor(labelOptions), spec, k: Math.min(spec.mode === 'sampled' ? needed : k, vocabSize) };
  };
  // The whole softmax, no TopK: built on the first labelFull call.
  let softmaxSession: Promise<{ session: InferenceSession; probabilities: string }> | undefined;
  const runSoftmax: TopKRunner = async (batch) => {
    softmaxSession ??= (async () => {
      const graph = appendSoftmax(decodeModel(modelBytes, modelPath!), signature, temperature, modelPath!);
      return { session: await createSession(graph.bytes), probabilities: graph.probabilities };
    })();
    const { session, probabilities } = await softmaxSession;
    const result = await runSession(session, buildFeeds(signature, batch), undefined, modelPath);
    return { probabilities: result[probabilities].data as Float32Array, ids: new Int32Array(0) };
  };

  async function* framed(documents: AsyncIterable<CorpusDocument> | Iterable<CorpusDocument>) {
    for await (const document of documents) {
      // BOS + tokens + EOS, the markers on empty spans at the start and the end.
      const { ids: tokenIds, offsets } = await tokenizer.frame(document.text);
      yield { source: document, tokenIds, offsets };
    }
  }

  let closed = false;
  const ensureOpen = () => {
    if (closed) throw new TeacherError('E_OPTIONS', `the teacher ${modelPath} was closed; load it again to use it`);
  };

  return {
    modelPath,
    modelSha256,
    tokenizerSha256,
    vocabSize,
    contextLength,
    temperature,
    signature,
    tokenizer,
    async *label(documents, labelOptions) {
      ensureOpen();
      const settings = settingsFor(labelOptions);
      for await (const { document, rows } of labelTokenized(framed(documents), await runnerFor(settings.spec), settings)) {
        const { source } = document;
        yield { index: source.index, id: source.id, task: source.task, text: source.text, tokenIds: document.tokenIds, offsets: document.offsets, rows };
      }
    },
    async *labelFull(documents, labelOptions = {}) {
      ensureOpen();
      const fold = labelOptions.fold ?? identityFold(vocabSize);
      // Every id is a candidate: the rows' description as a selection is fixed k = vocabulary.
      const settings: LabelSettings = { ...batchSettingsFor(labelOptions), spec: { mode: 'fixed', k: vocabSize }, k: vocabSize, fold };
      for await (const { document, rows } of labelTokenized(framed(documents), runSoftmax, settings)) {
        const { source } = document;
        yield { index: source.index, id: source.id, task: source.task, text: source.text, tokenIds: document.tokenIds, offsets: document.offsets, rows };
      }
    },
    async labelTokenIds(ids, labelOptions) {
      ensureOpen();
      const settings = settingsFor(labelOptions);
      const tokenIds = Uint32Array.from(ids);
      for (let i = 0; i < tokenIds.length; i++) {
        if (tokenIds[i] !== ids[i] || tokenIds[i] >= vocabSize) {
          throw new TeacherError('E_OPTIONS', `token id ${ids[i]} at ${i} is not an integer in [0, ${vocabSize})`);
        }
      }
      for await (const { rows } of labelTokenized([{ tokenIds }], await runnerFor(settings.spec), settings)) return rows;
      throw new TeacherError('E_OPTIONS', 'labelling produced no document');
    },
    async forwardLogits(inputIds, attentionMask, batch, sequence) {
      ensureOpen();
      if (inputIds.length !== batch * sequence || (attentionMask && attentionMask.length !== batch * sequence)) {
        throw new TeacherError('E_OPTIONS', `inputIds and attentionMask must hold batch × sequence = ${batch * sequence} values, got ${inputIds.length} and ${attentionMask?.length ?? 'none'}`);
      }
      const ids = inputIds instanceof Int32Array ? inputIds : Int32Array.from(inputIds, Number);
      const mask = new Uint8Array(batch * sequence).fill(1);
      if (attentionMask) for (let i = 0; i < mask.length; i++) mask[i] = Number(attentionMask[i]) ? 1 : 0;
      const padded: PaddedBatch = { batch, sequence, ids, mask };
      fullSession ??= createSession(modelPath!);
      const session = await fullSession;
      const logits = (await runSession(session, buildFeeds(signature, padded), [signature.logits.name], modelPath))[signature.logits.name];
      const type = signature.logits.type;
      if (isReadableLogitsType(type)) return logitsAsFloat32(type, logits.data as Float32Array | Uint16Array | Float64Array);
      throw new TeacherError('E_MODEL_OUTPUTS', `${modelPath}: logits of type ${type} cannot be read in JavaScript; label() still works (it converts inside the graph)`);
    },
    async close() {
      if (closed) return;
      closed = true;
      await fastSession.release();
      if (fullSession) await (await fullSession).release();
      for (const entry of samplingSessions.values()) await (await entry).session.release();
      if (softmaxSession) await (await softmaxSession).session.release();
    },
  };
}
