import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runner } from './forward.js';
import { generateIds, type SequenceRequest } from './generation.js';
import { seededRandom } from './random.js';
import { openRunner } from './runner.js';
import { Sampler, SeenTokens, type SamplingSettings } from './sampler.js';
import { teacherModel, tinyWithPastModel } from './test-fixtures.js';

const greedy: SamplingSettings = { temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1 };

function request(runner: Runner, prompt: number[], maxNewTokens: number, settings = greedy, seed = 1): SequenceRequest {
  return {
    prompt: Uint32Array.from(prompt),
    maxNewTokens,
    minNewTokens: 0,
    sampler: new Sampler(runner.vocabSize, settings, seededRandom(seed)),
    seen: settings.repetitionPenalty !== 1 ? new SeenTokens(runner.vocabSize) : undefined,
    stopIds: [2],
  };
}

const probePrompt = [1, 816, 272, 905];
const probeIds = [302, 272, 2969, 3543, 28723, 415, 2969, 3543, 659, 750, 12060, 601];

describe('generateIds on a model with a KV cache', () => {
  let cached: Runner;
  let recomputing: Runner;
  beforeAll(async () => {
    cached = await openRunner(tinyWithPastModel, { threads: 1 });
    recomputing = await openRunner(tinyWithPastModel, { threads: 1, disableCache: true });
  });
  afterAll(async () => {
    await cached?.session.release();
    await recomputing?.session.release();
  });

  it('reproduces the fixture README greedy probe with the cache and by recomputing', async () => {
    expect(cached.useCache).toBe(true);
    expect(recomputing.useCache).toBe(false);
    const [withCache] = await generateIds(cached, [request(cached, probePrompt, 12)]);
    expect(Array.from(withCache.ids)).toEqual(probeIds);
    expect(withCache.finishReason).toBe('length');
    const [without] = await generateIds(recomputing, [request(recomputing, probePrompt, 12)]);
    expect(Array.from(without.ids)).toEqual(probeIds);
  });

  it('gives each row of a left-padded batch what it gives alone (greedy)', async () => {
    const prompts = [probePrompt, [1, 415, 8463, 302, 272, 2969, 3543, 4579], [1, 306]];
    const alone = [];
    for (const prompt of prompts) alone.push(Array.from((await generateIds(cached, [request(cached, prompt, 10)]))[0].ids));
    const together = await generateIds(cached, prompts.map((prompt) => request(cached, prompt, 10)));
    expect(together.map((outcome) => Array.from(outcome.ids))).toEqual(alone);
  });

  it('samples the same tokens for the same seed and others for another', async () => {
    const settings: SamplingSettings = { temperature: 1, topK: 50, topP: 0.95, minP: 0.01, repetitionPenalty: 1.1 };
    const run = async (seed: number) => Array.from((await generateIds(cached, [request(cached, probePrompt, 24, settings, seed)]))[0].ids);
    const first = await run(7);
    expect(await run(7)).toEqual(first);
    expect(await run(8)).not.toEqual(first);
  });

  it('stops a row when its listener says so and honours the token allowance', async () => {
    const stopAfterThree: SequenceRequest = { ...request(cached, probePrompt, 12), onToken: () => (seen += 1) >= 3 };
    let seen = 0;
    const [outcome] = await generateIds(cached, [stopAfterThree, request(cached, probePrompt, 5)]).then((all) => [all[0], all[1]]);
    expect(Array.from(outcome.ids)).toEqual(probeIds.slice(0, 3));
    expect(outcome.finishReason).toBe('stop');
  });

  it('refuses to start when the signal has already fired and stops between steps', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(generateIds(cached, [request(cached, probePrompt, 4)], controller.signal)).rejects.toMatchObject({ code: 'E_ABORTED' });
    const later = new AbortController();
    const cancelling = { ...request(cached, probePrompt, 50), onToken: () => (later.abort(), false) };
    await expect(generateIds(cached, [cancelling], later.signal)).rejects.toMatchObject({ code: 'E_ABORTED' });
  });
});

describe('generateIds on a model without a cache', () => {
  it('recomputes every step and batches rows of different lengths', async () => {
    const runner = await openRunner(teacherModel, { threads: 1 });
    try {
      expect(runner.useCache).toBe(false);
      const prompts = [[1, 415, 8463, 302, 272, 2969, 3543, 4579], [1, 816, 272, 905]];
      const alone = [];
      for (const prompt of prompts) alone.push(Array.from((await generateIds(runner, [request(runner, prompt, 6)]))[0].ids));
      const together = await generateIds(runner, prompts.map((prompt) => request(runner, prompt, 6)));
      expect(together.map((outcome) => Array.from(outcome.ids))).toEqual(alone);
      // The teacher README's probe: the most likely next token after "The Congress of the United States shall".
      expect(alone[0][0]).toBe(347);
    } finally {
      await runner.session.release();
    }
  });
});
