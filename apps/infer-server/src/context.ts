// What a route handler gets: the parsed body, the response, a signal that fires when the
// client leaves or the request runs out of time, and the services.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Completion } from './engine.js';
import { toServerError } from './errors.js';
import type { ModelRegistry } from './registry.js';
import type { EventStream } from './respond.js';
import type { InferenceService } from './service.js';

export interface RequestContext {
  body: unknown;
  response: ServerResponse;
  signal: AbortSignal;
  service: InferenceService;
  registry: ModelRegistry;
}

export type Handler = (context: RequestContext) => Promise<void>;

export function requestId(prefix: string): string {
  return `${prefix}-${randomBytes(12).toString('hex')}`;
}

export function usageOf(completions: Completion[]): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  let prompt = 0;
  let completion = 0;
  for (const item of completions) {
    prompt += item.promptTokens;
    completion += item.completionTokens;
  }
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/**
 * Runs the work of a streamed answer. An error before the first event is an ordinary HTTP error;
 * after it, an error event ends the stream. Either way a fired signal (timeout, shutdown, a
 * departed client) is rethrown so the server counts the request for what it was.
 */
export async function streamAnswer(context: RequestContext, events: EventStream, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    const reason: unknown = context.signal.aborted ? context.signal.reason : error;
    if (!events.opened) throw reason;
    events.send(toServerError(reason).toBody());
    events.end();
    if (context.signal.aborted) throw reason;
  }
}
