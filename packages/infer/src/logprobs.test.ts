// Token log-probabilities of generate/stream/generateBatch against score() of the same tokens,
// and per-row cancellation of a batch. The real ONNX runtime on the fixture with a KV cache.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runner } from './forward.js';
import { loadModel, type Model } from './model.js';
import { openRunner } from './runner.js';
import { tokenLogProbs } from './score.js';
import { tinyWithPastDir, tinyWithPastModel } from './test-fixtures.js';

let model: Model;
let runner: Runner;
beforeAll(async () => {
  model = await loadModel(tinyWithPastDir, { threads: 1 });
  runner = await openRunner(tinyWithPastModel, { threads: 1 });
});
afterAll(async () => {
  await model?.dispose();
  await runner?.session.release();
});

const prompt = 'The Congress of the United States';
const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

/** log p of each generated token under score() of prompt + generated tokens, when the text tokenizes back to the same ids. */
async function scoredLogprobs(tokenIds: number[]): Promise<number[]> {
  const { ids } = await model.tokenizer.frame(prompt, { bos: true, eos: false });
  const scored = await model.score(prompt + (await model.tokenizer.decode(tokenIds)));
  expect(scored.tokenIds).toEqual([...ids, ...tokenIds]);
  return scored.logProbs.slice(ids.length - 1);
}

describe('logprobs of generate', () => {
  it('greedy: each token is the most likely, its log p is score()’s, and the sum matches', async () => {
    const result = await model.generate(prompt, { maxNewTokens: 12, topLogprobs: 5 });
    const logprobs = result.logprobs!;
    expect(logprobs.map((entry) => entry.id)).toEqual(result.tokenIds);
    for (const entry of logprobs) {
      expect(entry.top).toHaveLength(5);
      expect(entry.top[0].id).toBe(entry.id);
      expect(entry.top[0].logprob).toBe(entry.logprob);
      for (let j = 1; j < 5; j++) expect(entry.top[j].logprob).toBeLessThanOrEqual(entry.top[j - 1].logprob);
      expect(sum(entry.top.map((top) => Math.exp(top.logprob)))).toBeLessThanOrEqual(1 + 1e-9);
      expect(entry.text).toBe(new TextDecoder().decode(model.tokenizer.tokenBytes(entry.id)));
    }
    const scored = await scoredLogprobs(result.tokenIds);
    logprobs.forEach((entry, i) => expect(entry.logprob).toBeCloseTo(scored[i], 3));
    expect(sum(logprobs.map((entry) => entry.logprob))).toBeCloseTo(sum(scored), 3);
  });

  it('sampled at temperature 1: log p of the drawn tokens is what scoring gives them', async () => {
    const result = await model.generate(prompt, { maxNewTokens: 12, temperature: 1, seed: 5, logprobs: true });
    expect(result.logprobs!.every((entry) => entry.top.length === 0)).toBe(true);
    // A sampled text need not tokenize back to the drawn ids, so the ids are scored as they are (score()'s own function).
    const { ids } = await model.tokenizer.frame(prompt, { bos: true, eos: false });
    const scored = Array.from(await tokenLogProbs(runner, Uint32Array.from([...ids, ...result.tokenIds]), model.contextLength)).slice(ids.length - 1);
    result.logprobs!.forEach((entry, i) => expect(entry.logprob).toBeCloseTo(scored[i], 3));
    expect(sum(result.logprobs!.map((entry) => entry.logprob))).toBeCloseTo(sum(scored), 3);
  });

  it('follows the temperature the sampler divides by: at 0.5 the gaps between tokens double', async () => {
    const plain = (await model.generate(prompt, { maxNewTokens: 1, topLogprobs: 4 })).logprobs![0];
    const sharp = (await model.generate(prompt, { maxNewTokens: 1, temperature: 0.5, seed: 1, topLogprobs: 4 })).logprobs![0];
    expect(sharp.top.map((entry) => entry.id)).toEqual(plain.top.map((entry) => entry.id));
    for (let j = 1; j < 4; j++) expect(sharp.top[0].logprob - sharp.top[j].logprob).toBeCloseTo(2 * (plain.top[0].logprob - plain.top[j].logprob), 4);
  });

  it('is absent unless asked for, and refuses more than 20 alternatives naming the option', async () => {
    expect((await model.generate(prompt, { maxNewTokens: 2 })).logprobs).toBeUndefined();
    await expect(model.generate(prompt, { maxNewTokens: 2, topLogprobs: 21 })).rejects.toMatchObject({ code: 'E_OPTIONS', message: expect.stringContaining('topLogprobs') });
  });
});

describe('logprobs of stream and generateBatch', () => {
  it('stream chunks carry every token once, in order, and add up to the result (with a stop sequence)', async () => {
    const free = await model.generate(prompt, { maxNewTokens: 20 });
    const stop = free.text.trim().split(/\s+/)[3];
    const stream = model.stream(prompt, { maxNewTokens: 20, stop, topLogprobs: 2 });
    let text = '';
    const tokens: number[] = [];
    for await (const chunk of stream.chunks()) {
      text += chunk.text;
      for (const entry of chunk.logprobs ?? []) tokens.push(entry.id);
    }
    const result = await stream.result;
    expect(result.finishReason).toBe('stop');
    expect(text).toBe(result.text);
    expect(tokens).toEqual(result.tokenIds);
    expect(result.logprobs!.map((entry) => entry.id)).toEqual(result.tokenIds);
  });

  it('a batch row has the logprobs it has alone', async () => {
    const prompts = [prompt, 'We the people'];
    const batch = await model.generateBatch(prompts, { maxNewTokens: 10, topLogprobs: 3 });
    for (let i = 0; i < prompts.length; i++) {
      const alone = await model.generate(prompts[i], { maxNewTokens: 10, topLogprobs: 3 });
      expect(batch[i].tokenIds).toEqual(alone.tokenIds);
      batch[i].logprobs!.forEach((entry, t) => {
        expect(entry.logprob).toBeCloseTo(alone.logprobs![t].logprob, 4);
        expect(entry.top.map((top) => top.id)).toEqual(alone.logprobs![t].top.map((top) => top.id));
      });
    }
  });
});

describe('per-row cancellation in generateBatch', () => {
  const prompts = [prompt, 'We the people', 'Once upon a time'];

  it('stops only the row whose signal fires; the others give what they give alone', async () => {
    const alone = await Promise.all(prompts.map((text) => model.generate(text, { maxNewTokens: 24 })));
    const leaving = new AbortController();
    const running = model.generateBatch(prompts, { maxNewTokens: 24, signals: [undefined, leaving.signal, undefined] });
    // Fires while the batch's first forward pass runs.
    setImmediate(() => leaving.abort());
    const results = await running;
    expect(results[1].finishReason).toBe('cancelled');
    expect(results[1].tokenIds.length).toBeLessThan(alone[1].tokenIds.length);
    expect(alone[1].tokenIds.slice(0, results[1].tokenIds.length)).toEqual(results[1].tokenIds);
    for (const i of [0, 2]) {
      expect(results[i].tokenIds).toEqual(alone[i].tokenIds);
      expect(results[i].text).toBe(alone[i].text);
      expect(results[i].finishReason).toBe(alone[i].finishReason);
    }
  });

  it('a batch whose rows are all cancelled before it starts ends without an error; the shared signal still throws', async () => {
    const signals = prompts.map(() => AbortSignal.abort());
    const results = await model.generateBatch(prompts, { maxNewTokens: 8, signals });
    expect(results.map((result) => [result.finishReason, result.tokenIds.length])).toEqual(prompts.map(() => ['cancelled', 0]));
    await expect(model.generateBatch(prompts, { maxNewTokens: 8, signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'E_ABORTED' });
    await expect(model.generateBatch(prompts, { maxNewTokens: 8, signals: [undefined] })).rejects.toMatchObject({ code: 'E_OPTIONS', message: expect.stringContaining('signals') });
  });
});
