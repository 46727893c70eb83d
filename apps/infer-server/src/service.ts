// What the routes call: a task for a named model, checked against the limits, queued on that
// model's scheduler (batched with compatible requests), counted in the metrics.
import type { Completion, LabelScore, PieceListener, Sampling, ServedModel, TaskInput } from './engine.js';
import { ServerError } from './errors.js';
import type { Metrics } from './metrics.js';
import type { ServerOptions } from './options.js';
import type { ModelRegistry } from './registry.js';
import { Scheduler, type Job } from './scheduler.js';

interface GenerationJob extends Job<Completion> {
  kind: 'generate';
  model: ServedModel;
  input: TaskInput;
  sampling: Sampling;
  onPiece?: PieceListener;
}

interface ClassifyJob extends Job<LabelScore[]> {
  kind: 'classify';
  model: ServedModel;
  text: string;
  labels: string[];
}

type ModelJob = GenerationJob | ClassifyJob;

/** Sampling as a request gives it, before the server's limits and defaults. */
export type RequestedSampling = Partial<Sampling>;

export class InferenceService {
  private readonly schedulers = new Map<string, Scheduler<ModelJob>>();

  constructor(
    private readonly registry: ModelRegistry,
    private readonly metrics: Metrics,
    private readonly options: ServerOptions,
  ) {}

  /** Runs a generation task; `onPiece` streams the answer as it is produced. */
  async generate(
    modelName: string,
    input: TaskInput,
    requested: RequestedSampling,
    signal: AbortSignal,
    onPiece?: PieceListener,
  ): Promise<Completion> {
    const model = await this.registry.get(modelName);
    const sampling = await this.checkedSampling(model, input, requested);
    const completion = await new Promise<Completion>((resolve, reject) => {
      this.scheduler(modelName).submit({
        kind: 'generate',
        // Streams go alone: their pieces must reach the client as each token is produced.
        batchKey: onPiece || this.options.maxBatch <= 1 ? undefined : model.batchKey(input, sampling),
        model,
        input,
        sampling,
        onPiece,
        signal,
        resolve,
        reject,
      });
    });
    this.metrics.tokens(modelName, completion.promptTokens, completion.completionTokens);
    return completion;
  }

  async classify(modelName: string, text: string, labels: string[], signal: AbortSignal): Promise<LabelScore[]> {
    const model = await this.registry.get(modelName);
    await this.checkPromptLength(model, { task: 'generate', prompt: text });
    return new Promise<LabelScore[]>((resolve, reject) => {
      this.scheduler(modelName).submit({ kind: 'classify', batchKey: undefined, model, text, labels, signal, resolve, reject });
    });
  }

  /** Resolves when every model's queue is empty and nothing runs. */
  async idle(): Promise<void> {
    await Promise.all([...this.schedulers.values()].map((scheduler) => scheduler.idle()));
  }

  private async checkPromptLength(model: ServedModel, input: TaskInput): Promise<number> {
    const prompt = input.task === 'translate' ? input.text : input.task === 'chat' ? input.messages.map((message) => message.content).join('') : input.prompt;
    // No tokenizer here packs 32 characters into a token on average, so a longer prompt is refused
    // before the tokenizer spends time on it.
    const characterLimit = this.options.maxPromptTokens * 32;
    if (prompt.length > characterLimit) {
      throw new ServerError('E_PROMPT_TOO_LONG', `the prompt is ${prompt.length} characters; this server takes at most ${this.options.maxPromptTokens} tokens (${characterLimit} characters)`);
    }
    const tokens = await model.promptTokens(input);
    if (tokens > this.options.maxPromptTokens) {
      throw new ServerError('E_PROMPT_TOO_LONG', `the prompt is ${tokens} tokens; this server takes at most ${this.options.maxPromptTokens}`);
    }
    return tokens;
  }

  private async checkedSampling(model: ServedModel, input: TaskInput, requested: RequestedSampling): Promise<Sampling> {
    const maxNewTokens = requested.maxNewTokens ?? this.options.defaultMaxTokens;
    if (maxNewTokens > this.options.maxTokens) {
      throw new ServerError('E_VALIDATION', `max_tokens: at most ${this.options.maxTokens} new tokens per request, got ${maxNewTokens}`);
    }
    const promptTokens = await this.checkPromptLength(model, input);
    if (promptTokens >= model.contextLength) {
      throw new ServerError('E_PROMPT_TOO_LONG', `the prompt is ${promptTokens} tokens; the model's context holds ${model.contextLength}`);
    }
    const sampling: Sampling = { maxNewTokens };
    for (const key of ['temperature', 'topK', 'topP', 'minP', 'repetitionPenalty', 'stop', 'seed', 'topLogprobs'] as const) {
      if (requested[key] !== undefined) (sampling as unknown as Record<string, unknown>)[key] = requested[key];
    }
    return sampling;
  }

  private scheduler(modelName: string): Scheduler<ModelJob> {
    let scheduler = this.schedulers.get(modelName);
    if (!scheduler) {
      scheduler = new Scheduler<ModelJob>({
        concurrency: this.options.concurrency,
        queueSize: this.options.queueSize,
        maxBatch: this.options.maxBatch,
        run: (jobs) => this.run(modelName, jobs),
        onChange: (waiting, running) => this.metrics.queue(modelName, waiting, running),
      });
      this.schedulers.set(modelName, scheduler);
    }
    return scheduler;
  }

  private async run(modelName: string, jobs: ModelJob[]): Promise<void> {
    this.metrics.batch(modelName, jobs.length);
    const first = jobs[0];
    if (first.kind === 'classify') {
      first.resolve(await first.model.classify(first.text, first.labels, first.signal));
      return;
    }
    const generations = jobs as GenerationJob[];
    if (generations.length === 1) {
      first.resolve(await first.model.complete(first.input, first.sampling, first.signal, first.onPiece));
      return;
    }
    // A job whose signal fires is answered at once and its row stops; the other rows run on.
    for (const job of generations) job.signal.addEventListener('abort', () => job.reject(job.signal.reason), { once: true });
    const results = await first.model.completeBatch(
      generations.map((job) => job.input),
      first.sampling,
      generations.map((job) => job.signal),
    );
    generations.forEach((job, i) => job.resolve(results[i]));
  }
}
