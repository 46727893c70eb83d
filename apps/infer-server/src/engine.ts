// The one seam between the server and @kd/infer: a served model as the server needs it (task
// inputs in, completions out, batches, streamed pieces, label scores). Everything else in the
// server speaks these types, so following a change of the library touches only this file.
import { loadModel, type GenerateOptions, type GenerationResult, type Model, type TokenLogprob } from '@kd/infer';

export type FinishReason = 'stop' | 'length';

export interface Sampling {
  maxNewTokens: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repetitionPenalty?: number;
  stop?: string[];
  seed?: number;
  /** Record each new token's log-probability with this many alternatives (0: none); undefined: no logprobs. */
  topLogprobs?: number;
}

/** A token as the OpenAI shapes name it: its text, its UTF-8 bytes, its natural log-probability. */
export interface TokenChoice {
  token: string;
  bytes: number[];
  logprob: number;
}

export interface TokenLogprobs extends TokenChoice {
  /** The most likely tokens at that step, most likely first. */
  top: TokenChoice[];
}

export type TaskInput =
  | { task: 'generate'; prompt: string }
  | { task: 'code'; prompt: string; path?: string }
  | { task: 'translate'; text: string; from: string; to: string }
  | { task: 'chat'; messages: Array<{ role: string; content: string }> };

export interface Completion {
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
  /** When sampling asked for them: one per generated token (those of a stop sequence too). */
  logprobs?: TokenLogprobs[];
}

/** Called with each streamed piece and the log-probabilities of the tokens generated since the last one. */
export type PieceListener = (piece: string, logprobs?: TokenLogprobs[]) => void;

export interface LabelScore {
  label: string;
  /** Probability of the label among the candidates (they sum to 1). */
  score: number;
  /** Natural log-probability of the label's tokens after the text. */
  logprob: number;
}

export interface ServedModel {
  /** Longest prompt + answer the model takes, in tokens. */
  readonly contextLength: number;
  /** Tokens the model reads for this input (markers included). */
  promptTokens(input: TaskInput): Promise<number>;
  /** A key shared by inputs that can run in one batched generation with these options; undefined: run alone. */
  batchKey(input: TaskInput, sampling: Sampling): string | undefined;
  complete(input: TaskInput, sampling: Sampling, signal: AbortSignal, onPiece?: PieceListener): Promise<Completion>;
  /** Inputs with equal batch keys (hence equal sampling) in one batched generation; a fired signal stops its row alone. */
  completeBatch(inputs: TaskInput[], sampling: Sampling, signals: AbortSignal[]): Promise<Completion[]>;
  classify(text: string, labels: string[], signal: AbortSignal): Promise<LabelScore[]>;
  dispose(): Promise<void>;
}

export interface LoadOptions {
  threads?: number;
  /** Where the library's one-time notices go (a model without a KV cache). */
  log?: (line: string) => void;
}

/**
 * A chat as the text a plain causal LM continues: one "Role: text" paragraph per message and an
 * open "Assistant:" turn. Generation stops when the model starts the user's next turn.
 */
export function chatPrompt(messages: Array<{ role: string; content: string }>): string {
  const name = (role: string) => role.charAt(0).toUpperCase() + role.slice(1);
  return `${messages.map((message) => `${name(message.role)}: ${message.content.trim()}`).join('\n\n')}\n\nAssistant:`;
}
const chatStops = ['\n\nUser:', '\nUser:'];

function tokenLogprobs(model: Model, entries: TokenLogprob[]): TokenLogprobs[] {
  const choice = (id: number, text: string, logprob: number): TokenChoice => ({ token: text, bytes: Array.from(model.tokenizer.tokenBytes(id)), logprob });
  return entries.map((entry) => ({ ...choice(entry.id, entry.text, entry.logprob), top: entry.top.map((top) => choice(top.id, top.text, top.logprob)) }));
}

function toCompletion(model: Model, result: GenerationResult): Completion {
  return {
    text: result.text,
    // A cancelled row's job was answered when its signal fired; its result reaches no one.
    finishReason: result.finishReason === 'length' ? 'length' : 'stop',
    promptTokens: result.usage.promptTokens,
    completionTokens: result.usage.completionTokens,
    ...(result.logprobs ? { logprobs: tokenLogprobs(model, result.logprobs) } : {}),
  };
}

/**
 * Drops the leading whitespace translate() drops (the template ends before the answer's word
 * marker, so the answer starts with it), from a stream of pieces.
 */
function answerStart(suffix: string, emit: (piece: string) => void): { push(piece: string): void; flush(): void } {
  let head = '';
  let started = false;
  const release = () => {
    started = true;
    const text = head.startsWith(suffix) ? head.slice(suffix.length) : head.trimStart();
    if (text) emit(text);
  };
  return {
    push(piece) {
      if (started) return emit(piece);
      head += piece;
      if (head.length >= suffix.length && head.trim().length > 0) release();
    },
    flush() {
      if (!started) release();
    },
  };
}

export async function loadServedModel(dir: string, options: LoadOptions = {}): Promise<ServedModel> {
  const model: Model = await loadModel(dir, { threads: options.threads, onNotice: options.log });
  const generateOptions = (sampling: Sampling, signal: AbortSignal | undefined, extraStops: string[] = []): GenerateOptions => {
    const stop = [...(sampling.stop ?? []), ...extraStops];
    // Unset sampling options fall back to the folder's generation_config.json, then to greedy.
    return { ...sampling, stop: stop.length > 0 ? stop : undefined, signal };
  };
  const completion = (result: GenerationResult) => toCompletion(model, result);
  // The text the model continues for inputs that are plain prompts (everything but translate).
  const promptOf = (input: TaskInput): string | undefined => {
    if (input.task === 'generate') return input.prompt;
    if (input.task === 'code') return input.path === undefined ? input.prompt : model.taskPrompt('code', { path: input.path, text: input.prompt });
    if (input.task === 'chat') return chatPrompt(input.messages);
    return undefined;
  };
  const stopsOf = (input: TaskInput) => (input.task === 'chat' ? chatStops : []);
  const translatePrompt = (input: Extract<TaskInput, { task: 'translate' }>) =>
    model.taskPrompt('translate', { src: input.text, src_lang: input.from, tgt_lang: input.to });

  return {
    contextLength: model.contextLength,
    async promptTokens(input) {
      const text = promptOf(input) ?? translatePrompt(input as Extract<TaskInput, { task: 'translate' }>);
      return (await model.tokenizer.frame(text, { bos: true, eos: false })).ids.length;
    },
    batchKey(input, sampling) {
      if (promptOf(input) === undefined) return undefined;
      return JSON.stringify([sampling, stopsOf(input)]);
    },
    async complete(input, sampling, signal, onPiece) {
      if (input.task === 'translate') {
        const options = generateOptions(sampling, signal);
        if (!onPiece) return completion(await model.translate(input.text, { ...options, from: input.from, to: input.to }));
        // Streamed like translate(): the prompt without its trailing space, which the answer brings back.
        const prompt = translatePrompt(input);
        const trimmed = prompt.trimEnd();
        const start = answerStart(prompt.slice(trimmed.length), onPiece);
        const stream = model.stream(trimmed, options);
        for await (const piece of stream) start.push(piece);
        start.flush();
        const result = await stream.result;
        const text = result.text.startsWith(prompt.slice(trimmed.length)) ? result.text.slice(prompt.length - trimmed.length) : result.text.trimStart();
        return { ...completion(result), text };
      }
      const prompt = promptOf(input)!;
      const options = generateOptions(sampling, signal, stopsOf(input));
      if (!onPiece) return completion(await model.generate(prompt, options));
      const stream = model.stream(prompt, options);
      for await (const chunk of stream.chunks()) onPiece(chunk.text, chunk.logprobs && tokenLogprobs(model, chunk.logprobs));
      return completion(await stream.result);
    },
    async completeBatch(inputs, sampling, signals) {
      const prompts = inputs.map((input) => promptOf(input)!);
      // Each row has its client's signal: one that leaves stops its row; the others run on unchanged.
      const results = await model.generateBatch(prompts, { ...generateOptions(sampling, undefined, stopsOf(inputs[0])), signals });
      return results.map(completion);
    },
    async classify(text, labels, signal) {
      const result = await model.classify(text, labels, { signal });
      return result.scores.map((entry) => ({ label: entry.label, score: entry.score, logprob: entry.logProb }));
    },
    dispose: () => model.dispose(),
  };
}
