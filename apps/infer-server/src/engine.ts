// The one seam between the server and @kd/infer: a served model as the server needs it
// (prompts in, completions out, batches, streamed pieces, label scores). Everything else in the
// server speaks these types, so following a change of the library touches only this file.
import { loadModel } from '@kd/infer';

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
}

export type TaskInput =
  | { task: 'generate'; prompt: string }
  | { task: 'code'; prompt: string }
  | { task: 'translate'; text: string; from: string; to: string }
  | { task: 'chat'; messages: Array<{ role: string; content: string }> };

export interface Completion {
  text: string;
  tokenIds: Uint32Array;
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
}

export interface LabelScore {
  label: string;
  /** Probability of the label among the candidates (they sum to 1). */
  score: number;
}

export interface ServedModel {
  /** Longest prompt + answer the model takes, in tokens. */
  readonly contextLength: number;
  /** The text the model continues for this task input. */
  promptOf(input: TaskInput): string;
  countTokens(text: string): Promise<number>;
  complete(prompt: string, sampling: Sampling, signal: AbortSignal, onPiece?: (piece: string) => void): Promise<Completion>;
  /** Several prompts in one batched generation; sampling is per prompt. */
  completeBatch(prompts: string[], sampling: Sampling[], signals: AbortSignal[]): Promise<Completion[]>;
  classify(text: string, labels: string[], signal: AbortSignal): Promise<LabelScore[]>;
  dispose(): Promise<void>;
}

export interface LoadOptions {
  threads?: number;
}

export async function loadServedModel(dir: string, options: LoadOptions = {}): Promise<ServedModel> {
  const model = await loadModel(dir);
  void options;
  const toOptions = (sampling: Sampling, signal: AbortSignal) => ({ ...sampling, signal });
  const toCompletion = (result: Awaited<ReturnType<typeof model.generate>>): Completion => ({
    text: result.text,
    tokenIds: result.tokenIds,
    finishReason: result.finishReason === 'stop' ? 'stop' : 'length',
    promptTokens: result.usage.promptTokens,
    completionTokens: result.usage.completionTokens,
  });
  return {
    contextLength: model.contextLength,
    promptOf(input) {
      switch (input.task) {
        case 'generate':
        case 'code':
          return input.prompt;
        case 'translate':
          return `Translate ${input.from} to ${input.to}: ${input.text}\n`;
        case 'chat':
          return `${input.messages.map((message) => `${message.role}: ${message.content}`).join('\n')}\nassistant:`;
      }
    },
    countTokens: (text) => model.countTokens(text),
    async complete(prompt, sampling, signal, onPiece) {
      if (!onPiece) return toCompletion(await model.generate(prompt, toOptions(sampling, signal)));
      let text = '';
      for await (const piece of model.stream(prompt, toOptions(sampling, signal))) {
        text += piece;
        onPiece(piece);
      }
      const completionTokens = await model.countTokens(text);
      return {
        text,
        tokenIds: new Uint32Array(),
        finishReason: completionTokens >= sampling.maxNewTokens ? 'length' : 'stop',
        promptTokens: await model.countTokens(prompt),
        completionTokens,
      };
    },
    async completeBatch(prompts, sampling, signals) {
      return Promise.all(prompts.map(async (prompt, i) => toCompletion(await model.generate(prompt, toOptions(sampling[i], signals[i])))));
    },
    async classify(text, labels) {
      return model.classify(text, labels);
    },
    dispose: () => model.dispose(),
  };
}
