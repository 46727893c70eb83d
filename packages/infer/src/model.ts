// loadModel and the Model it returns: an ONNX causal LM folder with its tokenizer, ready for
// the four text tasks (generation, code, translation, classification) and for scoring.
import { cacheShapeHints } from '@kd/lm-signature';
import { assertTokenizerFits, loadTokenizer, taskPrompt, TextError, type CorpusTask, type TaskFields, type Tokenizer } from '@kd/text';
import { InferError } from './errors.js';
import type { Runner } from './forward.js';
import { abortError, generateIds, type FinishReason, type SequenceRequest } from './generation.js';
import { continuationText, IncrementalText } from './incremental-text.js';
import { allIds, firstId, readModelFolder, type ModelFolder } from './model-folder.js';
import {
  generateBatchOptionsSchema,
  generateOptionsSchema,
  loadModelOptionsSchema,
  parseOptions,
  type GenerateBatchOptions,
  type GenerateOptions,
  type LoadModelOptions,
  type LoadModelSettings,
  type PromptOverflow,
} from './options.js';
import { freshSeed, seededRandom } from './random.js';
import { openRunner } from './runner.js';
import { Sampler, SeenTokens, type SamplingSettings } from './sampler.js';
import { continuationLogProbs, tokenLogProbs } from './score.js';
import { StopMatcher } from './stop-sequences.js';
import { PieceChannel, type TextChunk, type TextStream } from './text-stream.js';
import { LogprobRecorder, type TokenLogprob } from './token-logprobs.js';

export interface GenerationResult {
  /** The generated text (without the prompt, the end-of-text token or a stop sequence). */
  text: string;
  /** The generated token ids (without the end-of-text token). */
  tokenIds: number[];
  /** 'stop': end-of-text or a stop sequence; 'length': maxNewTokens or the context ran out; 'cancelled': the row's own signal fired (generateBatch). */
  finishReason: FinishReason;
  usage: { promptTokens: number; completionTokens: number };
  /** With `logprobs` or `topLogprobs`: one entry per token of tokenIds, in order. */
  logprobs?: TokenLogprob[];
}

export interface CodeOptions extends GenerateOptions {
  /** A file path: the prompt becomes the code template (`# file: <path>\n<code>`). */
  path?: string;
}

export interface TranslateOptions extends GenerateOptions {
  /** Source language name as the template spells it (default English). */
  from?: string;
  /** Target language name (default German). */
  to?: string;
}

export interface ClassifyOptions {
  /** Wrap the text in the classify template (default true); false scores labels right after the text as given. */
  template?: boolean;
  signal?: AbortSignal;
  promptOverflow?: PromptOverflow;
}

export interface LabelScore {
  label: string;
  /** Probability among the labels: softmax of the log-probabilities. */
  score: number;
  /** log p(label tokens, end-of-text | prompt). */
  logProb: number;
}

export interface ClassifyResult {
  /** The label with the highest score. */
  label: string;
  /** Every label, in the order given. */
  scores: LabelScore[];
}

export interface ScoreOptions {
  /** Put BOS first (default true). */
  bos?: boolean;
  /** Score an end-of-text token after the text too (default false). */
  eos?: boolean;
  signal?: AbortSignal;
}

export interface ScoreResult {
  /** The scored token ids (BOS first when asked for). */
  tokenIds: number[];
  /** logProbs[i] = log p(tokenIds[i + 1] | tokenIds[0..i]), natural log. */
  logProbs: number[];
  /** Σ logProbs. */
  totalLogProb: number;
  /** exp(−mean logProbs). */
  perplexity: number;
}

export interface Model {
  readonly dir: string;
  readonly modelPath: string;
  readonly tokenizer: Tokenizer;
  /** Rows of the logits. */
  readonly vocabSize: number;
  /** Longest sequence, prompt and new tokens together. */
  readonly contextLength: number;
  /** True when steps feed the KV cache; false when every step recomputes the sequence. */
  readonly usesCache: boolean;
  /** Ids that end generation. */
  readonly endOfTextIds: readonly number[];
  generate(prompt: string, options?: GenerateOptions): Promise<GenerationResult>;
  /** Several prompts in one batch (left padded, each row stops on its own, `signals` cancel rows alone); results in order. */
  generateBatch(prompts: readonly string[], options?: GenerateBatchOptions): Promise<GenerationResult[]>;
  stream(prompt: string, options?: GenerateOptions): TextStream<GenerationResult>;
  code(prompt: string, options?: CodeOptions): Promise<GenerationResult>;
  translate(text: string, options?: TranslateOptions): Promise<GenerationResult>;
  /** The prompt of a task for these fields: the folder's templates.json where it has one, else @kd/text's (what code, translate and classify read). */
  taskPrompt(task: CorpusTask, fields: TaskFields): string;
  classify(text: string, labels: readonly string[], options?: ClassifyOptions): Promise<ClassifyResult>;
  score(text: string, options?: ScoreOptions): Promise<ScoreResult>;
  dispose(): Promise<void>;
}

const defaultContextLength = 2048;
const utf8 = new TextDecoder();
const defaultMaxNewTokens = 128;

interface ResolvedGeneration {
  maxNewTokens: number;
  minNewTokens: number;
  sampling: SamplingSettings;
  stop: string[];
  seed: number;
  signal?: AbortSignal;
  /** Per-prompt signals of generateBatch. */
  signals?: readonly (AbortSignal | undefined)[];
  promptOverflow: PromptOverflow;
  /** Alternatives per step when logprobs are recorded; undefined: not recorded. */
  topLogprobs: number | undefined;
}

function resolveGeneration(folder: ModelFolder, settings: LoadModelSettings, input: GenerateBatchOptions | undefined, batch = false): ResolvedGeneration {
  const options = batch ? parseOptions(generateBatchOptionsSchema, input, 'generateBatch options') : parseOptions(generateOptionsSchema, input, 'generate options');
  const config = folder.generationConfig;
  const sampleByDefault = config.do_sample === true;
  const temperature = options.temperature ?? (sampleByDefault ? (config.temperature ?? 1) : 0);
  return {
    maxNewTokens: options.maxNewTokens ?? config.max_new_tokens ?? defaultMaxNewTokens,
    minNewTokens: options.minNewTokens ?? config.min_new_tokens ?? 0,
    sampling: {
      temperature,
      topK: options.topK ?? (sampleByDefault ? (config.top_k ?? 0) : 0),
      topP: options.topP ?? (sampleByDefault ? (config.top_p ?? 1) : 1),
      minP: options.minP ?? (sampleByDefault ? (config.min_p ?? 0) : 0),
      repetitionPenalty: options.repetitionPenalty ?? config.repetition_penalty ?? 1,
    },
    stop: options.stop === undefined ? [] : typeof options.stop === 'string' ? [options.stop] : options.stop,
    seed: options.seed ?? freshSeed(),
    signal: options.signal,
    signals: 'signals' in options ? (options.signals as readonly (AbortSignal | undefined)[] | undefined) : undefined,
    promptOverflow: options.promptOverflow ?? settings.promptOverflow,
    topLogprobs: options.logprobs || options.topLogprobs !== undefined ? (options.topLogprobs ?? 0) : undefined,
  };
}

/** Loads a model folder: onnx/model.onnx (or model.onnx), tokenizer.json, and config files when present. */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<Model> {
  const settings = parseOptions(loadModelOptionsSchema, options, 'loadModel options');
  const folder = await readModelFolder(dir);
  let tokenizer: Tokenizer;
  try {
    tokenizer = await loadTokenizer(folder.tokenizerPath);
  } catch (cause) {
    throw new InferError('E_MODEL_FORMAT', `${folder.tokenizerPath}: ${(cause as Error).message}`, { cause });
  }
  const config = folder.config;
  const runner: Runner = await openRunner(folder.modelPath, { threads: settings.threads, disableCache: !settings.useCache, sliceLogits: settings.sliceLogits, ...cacheShapeHints(config) });
  try {
    assertTokenizerFits(tokenizer, runner.vocabSize, { model: folder.modelPath });
  } catch (cause) {
    await runner.session.release();
    if (cause instanceof TextError) throw new InferError('E_TOKENIZER_MISMATCH', cause.message, { cause });
    throw cause;
  }
  const notice = settings.onNotice ?? ((message: string) => console.warn(message));
  if (runner.signature.cache.length === 0) {
    notice(`${folder.modelPath} has no past_key_values inputs: every generated token recomputes the whole sequence (slower); export the model with a KV cache for speed`);
  }
  const contextLength = settings.contextLength ?? config.max_position_embeddings ?? defaultContextLength;
  const endOfTextIds = [...new Set([...allIds(folder.generationConfig.eos_token_id), ...(folder.generationConfig.eos_token_id == null ? allIds(config.eos_token_id) : [])])];
  if (endOfTextIds.length === 0 && tokenizer.roles.eos !== undefined) endOfTextIds.push(tokenizer.roles.eos);
  const bosId = tokenizer.roles.bos ?? firstId(config.bos_token_id);
  return new LoadedModel(folder, settings, tokenizer, runner, contextLength, endOfTextIds, bosId);
}

interface PreparedPrompt {
  ids: Uint32Array;
}

class LoadedModel implements Model {
  readonly dir: string;
  readonly modelPath: string;
  readonly vocabSize: number;
  readonly usesCache: boolean;
  private disposed = false;

  constructor(
    private readonly folder: ModelFolder,
    private readonly settings: LoadModelSettings,
    readonly tokenizer: Tokenizer,
    private readonly runner: Runner,
    readonly contextLength: number,
    readonly endOfTextIds: readonly number[],
    private readonly bosId: number | undefined,
  ) {
    this.dir = folder.dir;
    this.modelPath = folder.modelPath;
    this.vocabSize = runner.vocabSize;
    this.usesCache = runner.useCache;
  }

  /** A task's prompt from the folder's templates.json where it has one, else @kd/text's. */
  taskPrompt(task: CorpusTask, fields: TaskFields): string {
    try {
      return taskPrompt(task, fields, this.folder.templates);
    } catch (cause) {
      if (cause instanceof TextError) throw new InferError(this.folder.templates?.[task] ? 'E_MODEL_FORMAT' : 'E_OPTIONS', cause.message, { cause });
      throw cause;
    }
  }

  private ensureOpen(): void {
    if (this.disposed) throw new InferError('E_DISPOSED', `the model ${this.modelPath} was disposed; load it again to use it`);
  }

  /** The prompt's ids (BOS first), fitted to the context as the overflow mode says. */
  private async preparePrompt(prompt: string, maxNewTokens: number, overflow: PromptOverflow): Promise<PreparedPrompt> {
    if (typeof prompt !== 'string') throw new InferError('E_OPTIONS', `a prompt must be a string, got ${typeof prompt}`);
    const { ids } = await this.tokenizer.frame(prompt, { bos: this.bosId !== undefined, eos: false });
    const markers = this.bosId !== undefined && ids[0] === this.bosId ? 1 : 0;
    if (prompt.length === 0 || ids.length <= markers) throw new InferError('E_EMPTY_PROMPT', 'the prompt is empty; pass some text to continue');
    return { ids: this.fitContext(ids, markers, maxNewTokens, overflow) };
  }

  private fitContext(ids: Uint32Array, markers: number, room: number, overflow: PromptOverflow): Uint32Array {
    const context = this.contextLength;
    if (overflow === 'error') {
      if (ids.length >= context) {
        throw new InferError('E_PROMPT_TOO_LONG', `the prompt has ${ids.length} tokens but the context holds ${context} (prompt and new tokens together); shorten it or load the model with promptOverflow 'truncate-left'`);
      }
      return ids;
    }
    const keep = Math.max(markers + 1, context - Math.max(1, room));
    if (ids.length <= keep) return ids;
    const fitted = new Uint32Array(keep);
    fitted.set(ids.subarray(0, markers));
    fitted.set(ids.subarray(ids.length - (keep - markers)), markers);
    return fitted;
  }

  /** A token's text for logprobs: its bytes as UTF-8. */
  private readonly tokenText = (id: number): string => utf8.decode(this.tokenizer.tokenBytes(id));

  private async run(prompts: readonly string[], input: GenerateBatchOptions | undefined, emit?: (chunk: TextChunk) => void, batch = false): Promise<GenerationResult[]> {
    this.ensureOpen();
    const options = resolveGeneration(this.folder, this.settings, input, batch);
    if (prompts.length === 0) return [];
    if (options.signals && options.signals.length !== prompts.length) {
      throw new InferError('E_OPTIONS', `generateBatch options: signals: one per prompt (${prompts.length}), got ${options.signals.length}`);
    }
    const prepared = await Promise.all(prompts.map((prompt) => this.preparePrompt(prompt, options.maxNewTokens, options.promptOverflow)));
    const stops = options.stop;
    const needsText = emit !== undefined || stops.length > 0;
    const texts = prepared.map((prompt) => (needsText ? new IncrementalText(this.tokenizer, prompt.ids) : undefined));
    const matchers = prepared.map(() => (stops.length > 0 ? new StopMatcher(stops) : undefined));
    const outputs = prepared.map(() => ({ text: '' }));
    const recorders = prepared.map((prompt) =>
      options.topLogprobs === undefined ? undefined : new LogprobRecorder(Math.max(0, Math.min(options.maxNewTokens, this.contextLength - prompt.ids.length)), options.topLogprobs, options.sampling.temperature),
    );
    // Tokens whose logprobs went out with a chunk already, per row (streams).
    const handedTokens = prepared.map(() => 0);
    const hand = (index: number, piece: string) => {
      outputs[index].text += piece;
      if (!emit) return;
      const recorder = recorders[index];
      let logprobs: TokenLogprob[] | undefined;
      if (recorder && recorder.count > handedTokens[index]) {
        logprobs = recorder.entries(handedTokens[index], recorder.count, this.tokenText);
        handedTokens[index] = recorder.count;
      }
      if (piece.length > 0 || logprobs) emit(logprobs ? { text: piece, logprobs } : { text: piece });
    };
    const requests: SequenceRequest[] = prepared.map((prompt, index) => {
      const text = texts[index];
      const matcher = matchers[index];
      return {
        prompt: prompt.ids,
        maxNewTokens: Math.max(0, Math.min(options.maxNewTokens, this.contextLength - prompt.ids.length)),
        minNewTokens: options.minNewTokens,
        sampler: new Sampler(this.vocabSize, options.sampling, seededRandom(options.seed)),
        seen: options.sampling.repetitionPenalty !== 1 ? new SeenTokens(this.vocabSize) : undefined,
        stopIds: this.endOfTextIds,
        logprobs: recorders[index],
        signal: options.signals?.[index],
        onToken: text
          ? async (id: number) => {
              const piece = await text.push(id);
              if (!matcher) {
                if (piece.length > 0) hand(index, piece);
                return false;
              }
              const safe = matcher.push(piece);
              if (safe.length > 0) hand(index, safe);
              return matcher.stopped;
            }
          : undefined,
      };
    });
    const outcomes = await generateIds(this.runner, requests, options.signal);
    return Promise.all(
      outcomes.map(async (outcome, index) => {
        let finishReason = outcome.finishReason;
        const text = texts[index];
        const matcher = matchers[index];
        if (text) {
          const rest = matcher?.stopped ? '' : await text.finish();
          if (matcher) {
            hand(index, matcher.push(rest) + matcher.finish());
            if (matcher.stopped && finishReason !== 'cancelled') finishReason = 'stop';
          } else hand(index, rest);
        } else outputs[index].text = await continuationText(this.tokenizer, prepared[index].ids, outcome.ids);
        const recorder = recorders[index];
        return {
          text: outputs[index].text,
          tokenIds: Array.from(outcome.ids),
          finishReason,
          usage: { promptTokens: prepared[index].ids.length, completionTokens: outcome.ids.length },
          ...(recorder ? { logprobs: recorder.entries(0, recorder.count, this.tokenText) } : {}),
        };
      }),
    );
  }

  async generate(prompt: string, options?: GenerateOptions): Promise<GenerationResult> {
    return (await this.run([prompt], options))[0];
  }

  async generateBatch(prompts: readonly string[], options?: GenerateBatchOptions): Promise<GenerationResult[]> {
    if (!Array.isArray(prompts)) throw new InferError('E_OPTIONS', 'generateBatch takes an array of prompts');
    return this.run(prompts, options, undefined, true);
  }

  stream(prompt: string, options?: GenerateOptions): TextStream<GenerationResult> {
    const channel = new PieceChannel();
    const cancel = new AbortController();
    const outer = options?.signal;
    const signal = outer ? AbortSignal.any([outer, cancel.signal]) : cancel.signal;
    const result = this.run([prompt], { ...options, signal }, (chunk) => channel.push(chunk)).then(
      (results) => {
        channel.close();
        return results[0];
      },
      (error: unknown) => {
        channel.fail(error);
        throw error;
      },
    );
    // A reader that only iterates still sees the error; the promise must not count as unhandled.
    result.catch(() => undefined);
    const read = () => channel.read(() => cancel.abort(new InferError('E_ABORTED', 'the stream was closed by its reader')));
    return {
      result,
      chunks: () => ({ [Symbol.asyncIterator]: read }),
      [Symbol.asyncIterator]: async function* () {
        for await (const chunk of read()) if (chunk.text.length > 0) yield chunk.text;
      },
    };
  }

  async code(prompt: string, options: CodeOptions = {}): Promise<GenerationResult> {
    const { path, ...rest } = options;
    const text = path === undefined ? prompt : this.taskPrompt('code', { path, text: prompt });
    if (prompt.length === 0) throw new InferError('E_EMPTY_PROMPT', 'the code prompt is empty; pass the beginning of the code to continue');
    return this.generate(text, rest);
  }

  async translate(text: string, options: TranslateOptions = {}): Promise<GenerationResult> {
    const { from, to, ...rest } = options;
    if (typeof text !== 'string' || text.trim().length === 0) throw new InferError('E_EMPTY_PROMPT', 'the text to translate is empty');
    const prompt = this.taskPrompt('translate', { src: text, src_lang: from, tgt_lang: to });
    // Training text put the answer's word marker on its first token (": Datei" → ":", "▁Datei"), so
    // the prompt ends before the space and the space comes back as part of the answer.
    const trimmed = prompt.trimEnd();
    const suffix = prompt.slice(trimmed.length);
    const result = await this.generate(trimmed, rest);
    const answer = result.text.startsWith(suffix) ? result.text.slice(suffix.length) : result.text.trimStart();
    return { ...result, text: answer };
  }

  async classify(text: string, labels: readonly string[], options: ClassifyOptions = {}): Promise<ClassifyResult> {
    this.ensureOpen();
    if (!Array.isArray(labels) || labels.length === 0) throw new InferError('E_LABELS', 'classify needs at least one label, e.g. ["spam", "ham"]');
    const seen = new Set<string>();
    for (const label of labels) {
      if (typeof label !== 'string' || label.trim().length === 0) throw new InferError('E_LABELS', `every label must be a non-empty string; got ${JSON.stringify(label)}`);
      if (seen.has(label)) throw new InferError('E_LABELS', `the label ${JSON.stringify(label)} is given twice`);
      seen.add(label);
    }
    if (typeof text !== 'string' || text.length === 0) throw new InferError('E_EMPTY_PROMPT', 'the text to classify is empty');
    if (options.signal?.aborted) throw abortError(options.signal);
    const prompt = options.template === false ? text : this.taskPrompt('classify', { input: text });
    const split = prompt.trimEnd().length;
    const overflow = options.promptOverflow ?? this.settings.promptOverflow;
    const framed = await Promise.all(labels.map((label) => this.tokenizer.frame(prompt + label, { bos: this.bosId !== undefined, eos: true })));
    const rows: Uint32Array[] = [];
    const starts: number[] = [];
    const markers = this.bosId !== undefined ? 1 : 0;
    for (const { ids, offsets } of framed) {
      let start = markers;
      while (start < ids.length && offsets[2 * start + 1] <= split) start++;
      start = Math.max(1, start);
      if (start >= ids.length) throw new InferError('E_LABELS', 'a label produced no tokens after the prompt');
      let row = ids;
      if (ids.length > this.contextLength) {
        if (overflow === 'error') {
          throw new InferError('E_PROMPT_TOO_LONG', `the text and label take ${ids.length} tokens but the context holds ${this.contextLength}; shorten the text or pass promptOverflow 'truncate-left'`);
        }
        const drop = Math.min(ids.length - this.contextLength, start - markers - 1);
        if (drop < ids.length - this.contextLength) throw new InferError('E_PROMPT_TOO_LONG', `a label alone takes more than the context of ${this.contextLength} tokens`);
        row = new Uint32Array(ids.length - drop);
        row.set(ids.subarray(0, markers));
        row.set(ids.subarray(markers + drop), markers);
        start -= drop;
      }
      rows.push(row);
      starts.push(start);
    }
    const logProbs = await continuationLogProbs(this.runner, rows, starts);
    let max = -Infinity;
    for (const value of logProbs) max = Math.max(max, value);
    let sum = 0;
    for (const value of logProbs) sum += Math.exp(value - max);
    const scores = labels.map((label, i) => ({ label, score: Math.exp(logProbs[i] - max) / sum, logProb: logProbs[i] }));
    let best = scores[0];
    for (const entry of scores) if (entry.score > best.score) best = entry;
    return { label: best.label, scores };
  }

  async score(text: string, options: ScoreOptions = {}): Promise<ScoreResult> {
    this.ensureOpen();
    if (typeof text !== 'string' || text.length === 0) throw new InferError('E_EMPTY_PROMPT', 'the text to score is empty');
    const bos = options.bos !== false && this.bosId !== undefined;
    const { ids } = await this.tokenizer.frame(text, { bos, eos: options.eos === true });
    if (ids.length < 2) throw new InferError('E_EMPTY_PROMPT', 'the text has a single token and no BOS before it: there is nothing to predict it from');
    const logProbs = await tokenLogProbs(this.runner, ids, this.contextLength, options.signal);
    let total = 0;
    for (const value of logProbs) total += value;
    return { tokenIds: Array.from(ids), logProbs: Array.from(logProbs), totalLogProb: total, perplexity: Math.exp(-total / logProbs.length) };
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.runner.session.release();
  }
}
