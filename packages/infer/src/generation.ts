// The decoding loop over token ids: a batch of prompts of different lengths (left padded) runs
// together, each row sampling its own next token and stopping on its own (EOS, a stop sequence
// seen by its listener, its token allowance, its own AbortSignal); finished rows ride along
// until all are done.
import { InferError } from './errors.js';
import { BatchForward, type Runner } from './forward.js';
import type { Sampler, SeenTokens } from './sampler.js';
import type { LogprobRecorder } from './token-logprobs.js';

/** 'cancelled' only for a row of a batch whose own signal fired (generateBatch's `signals`). */
export type FinishReason = 'stop' | 'length' | 'cancelled';

export interface SequenceRequest {
  prompt: Uint32Array;
  /** Tokens this row may add (already capped by the context). */
  maxNewTokens: number;
  /** Tokens before which the stop ids are blocked. */
  minNewTokens: number;
  sampler: Sampler;
  /** Present when a repetition penalty applies. */
  seen?: SeenTokens;
  /** Ids that end the row (EOS); they are not part of the output. */
  stopIds: readonly number[];
  /** Called with each new token; returning true ends the row (a stop sequence was completed). */
  onToken?: (id: number) => boolean | Promise<boolean>;
  /** Present when the log-probabilities of the new tokens are asked for. */
  logprobs?: LogprobRecorder;
  /** Ends this row alone (finish reason 'cancelled'); the other rows go on. */
  signal?: AbortSignal;
}

export interface SequenceOutcome {
  ids: Uint32Array;
  finishReason: FinishReason;
  /** Seconds from the start until the first token was chosen. */
  firstTokenSeconds: number;
}

export function abortError(signal: AbortSignal): InferError {
  return new InferError('E_ABORTED', 'generation was cancelled by its AbortSignal', { cause: signal.reason });
}

export async function generateIds(runner: Runner, requests: readonly SequenceRequest[], signal?: AbortSignal): Promise<SequenceOutcome[]> {
  if (signal?.aborted) throw abortError(signal);
  const batch = requests.length;
  const vocab = runner.vocabSize;
  const steps = Math.max(...requests.map((request) => request.maxNewTokens));
  const start = performance.now();
  const forward = new BatchForward(
    runner,
    requests.map((request) => request.prompt),
    steps,
  );
  const generated = requests.map((request) => new Uint32Array(request.maxNewTokens));
  const counts = new Int32Array(batch);
  const reasons: (FinishReason | undefined)[] = new Array(batch).fill(undefined);
  const firstToken = new Float64Array(batch);
  const next = new Int32Array(batch);
  const stopFlags = requests.map((request) => {
    const flags = new Set<number>(request.stopIds);
    return flags;
  });
  for (let b = 0; b < batch; b++) {
    const { seen, prompt } = requests[b];
    if (seen) for (let i = 0; i < prompt.length; i++) seen.add(prompt[i]);
    if (requests[b].maxNewTokens === 0) reasons[b] = 'length';
    else if (requests[b].signal?.aborted) reasons[b] = 'cancelled';
  }
  let active = reasons.filter((reason) => reason === undefined).length;
  let logits = active > 0 ? await forward.prefill() : new Float32Array(0);
  while (active > 0) {
    if (signal?.aborted) throw abortError(signal);
    for (let b = 0; b < batch; b++) {
      if (reasons[b] !== undefined) continue;
      const request = requests[b];
      if (request.signal?.aborted) {
        reasons[b] = 'cancelled';
        active--;
        continue;
      }
      const row = logits.subarray(b * vocab, (b + 1) * vocab);
      const banned = counts[b] < request.minNewTokens && request.stopIds.length > 0 ? request.stopIds : undefined;
      const id = request.sampler.pick(row, request.seen, banned);
      if (counts[b] === 0) firstToken[b] = (performance.now() - start) / 1000;
      next[b] = id;
      if (stopFlags[b].has(id)) {
        reasons[b] = 'stop';
        active--;
        continue;
      }
      generated[b][counts[b]++] = id;
      request.logprobs?.record(row, id);
      request.seen?.add(id);
      if (request.onToken && (await request.onToken(id))) reasons[b] = 'stop';
      else if (counts[b] >= request.maxNewTokens) reasons[b] = 'length';
      if (reasons[b] !== undefined) active--;
    }
    if (active === 0) break;
    if (signal?.aborted) throw abortError(signal);
    logits = await forward.step(next);
  }
  return requests.map((_, b) => ({ ids: generated[b].slice(0, counts[b]), finishReason: reasons[b]!, firstTokenSeconds: firstToken[b] }));
}
