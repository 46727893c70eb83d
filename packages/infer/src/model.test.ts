import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Model } from './model.js';
import { buildKdExport, type TemporaryFolder } from './test-models.js';
import { teacherDir, tinyWithPastDir } from './test-fixtures.js';

let kdExport: TemporaryFolder;
const notices: Record<string, string[]> = {};
const models: Record<string, Model> = {};

const folders = ['tiny-llama-with-past', 'teacher-llama-13m', 'kd export'] as const;
type Folder = (typeof folders)[number];

beforeAll(async () => {
  kdExport = await buildKdExport();
  const dirs: Record<Folder, string> = { 'tiny-llama-with-past': tinyWithPastDir, 'teacher-llama-13m': teacherDir, 'kd export': kdExport.dir };
  for (const name of folders) {
    notices[name] = [];
    models[name] = await loadModel(dirs[name], { threads: 1, onNotice: (message) => notices[name].push(message) });
  }
});

afterAll(async () => {
  for (const model of Object.values(models)) await model.dispose();
  await kdExport?.remove();
});

describe('loadModel', () => {
  it('uses the KV cache where the graph has one and says once when it has none', () => {
    expect(models['tiny-llama-with-past'].usesCache).toBe(true);
    expect(models['kd export'].usesCache).toBe(true);
    expect(models['teacher-llama-13m'].usesCache).toBe(false);
    expect(notices['teacher-llama-13m']).toHaveLength(1);
    expect(notices['teacher-llama-13m'][0]).toMatch(/no past_key_values/);
    expect(notices['tiny-llama-with-past']).toEqual([]);
    expect(models['kd export'].contextLength).toBe(256);
    expect(models['tiny-llama-with-past'].endOfTextIds).toEqual([2]);
  });
});

describe('generate on the tiny fixture', () => {
  it('matches the README greedy probe', async () => {
    const result = await models['tiny-llama-with-past'].generate('We the people', { maxNewTokens: 12 });
    expect(result.tokenIds).toEqual([302, 272, 2969, 3543, 28723, 415, 2969, 3543, 659, 750, 12060, 601]);
    expect(result.usage).toEqual({ promptTokens: 4, completionTokens: 12 });
    expect(result.finishReason).toBe('length');
    expect(result.text).toBe(' ' + (await models['tiny-llama-with-past'].tokenizer.decode(result.tokenIds)));
  });
});

describe.each(folders)('the four tasks on %s', (name) => {
  const model = () => models[name];

  it('generates text, and streams pieces that add up to it', async () => {
    const options = { maxNewTokens: 16, minNewTokens: 16 };
    const result = await model().generate('The Congress of the United States', options);
    expect(result.tokenIds).toHaveLength(16);
    expect(result.finishReason).toBe('length');
    const stream = model().stream('The Congress of the United States', options);
    const pieces: string[] = [];
    for await (const piece of stream) pieces.push(piece);
    expect(pieces.join('')).toBe(result.text);
    expect(pieces.length).toBeGreaterThan(1);
    expect(await stream.result).toEqual(result);
  });

  it('continues code from its file template', async () => {
    const plain = await model().code('def add(a, b):\n', { maxNewTokens: 8 });
    const withPath = await model().code('def add(a, b):\n', { maxNewTokens: 8, path: 'arith.py' });
    expect(plain.tokenIds.length).toBeGreaterThan(0);
    expect(withPath.usage.promptTokens).toBeGreaterThan(plain.usage.promptTokens);
  });

  it('translates with the translate template', async () => {
    const result = await model().translate('File not found', { maxNewTokens: 12 });
    expect(result.usage.promptTokens).toBeGreaterThan(8);
    expect(result.tokenIds.length).toBeGreaterThan(0);
    expect(result.text.startsWith(' ')).toBe(false);
  });

  it('classifies: a normalized score for every label from its continuation log-probability', async () => {
    const result = await model().classify('Subject: WIN A FREE PRIZE\nClick here to claim your money now!!!', ['spam', 'ham']);
    expect(result.scores.map((entry) => entry.label)).toEqual(['spam', 'ham']);
    const total = result.scores.reduce((sum, entry) => sum + entry.score, 0);
    expect(total).toBeCloseTo(1, 6);
    for (const entry of result.scores) expect(entry.logProb).toBeLessThan(0);
    const [spam, ham] = result.scores;
    expect(spam.score / ham.score).toBeCloseTo(Math.exp(spam.logProb - ham.logProb), 6);
    expect(result.label).toBe(spam.score >= ham.score ? 'spam' : 'ham');
  });

  it('scores text: per-token log-probabilities and perplexity', async () => {
    const text = 'The Congress of the United States shall have power to lay and collect taxes.';
    const result = await model().score(text);
    expect(result.logProbs).toHaveLength(result.tokenIds.length - 1);
    for (const value of result.logProbs) expect(value).toBeLessThanOrEqual(0);
    expect(result.perplexity).toBeCloseTo(Math.exp(-result.totalLogProb / result.logProbs.length), 6);
  });

  it('batches prompts of different lengths with the same greedy output as one at a time', async () => {
    const prompts = ['We the people', 'Call me Ishmael. Some years ago, never mind how long', 'import os'];
    const alone = [];
    for (const prompt of prompts) alone.push(await model().generate(prompt, { maxNewTokens: 8 }));
    const together = await model().generateBatch(prompts, { maxNewTokens: 8 });
    expect(together).toEqual(alone);
  });
});

describe('scoring matches the teacher README probe', () => {
  it('gives p(347 | "The Congress of the United States shall") = 0.074414', async () => {
    const teacher = models['teacher-llama-13m'];
    const ids = [415, 8463, 302, 272, 2969, 3543, 4579, 347];
    const text = await teacher.tokenizer.decode(ids);
    const result = await teacher.score(text);
    expect(result.tokenIds).toEqual([1, ...ids]);
    expect(Math.exp(result.logProbs.at(-1)!)).toBeCloseTo(0.074414, 4);
  });

  it('scores a text longer than the context in windows, each token once', async () => {
    const teacher = models['teacher-llama-13m'];
    const small = await loadModel(teacherDir, { threads: 1, contextLength: 16, onNotice: () => undefined });
    try {
      const text = 'We the People of the United States, in Order to form a more perfect Union, establish Justice, insure domestic Tranquility';
      const full = await teacher.score(text);
      const windowed = await small.score(text);
      expect(full.tokenIds.length).toBeGreaterThan(24);
      expect(windowed.tokenIds).toEqual(full.tokenIds);
      // Within the first window the history is the same, so are the log-probabilities.
      for (let i = 0; i < 15; i++) expect(windowed.logProbs[i]).toBeCloseTo(full.logProbs[i], 4);
      expect(windowed.logProbs.slice(15)).not.toEqual(full.logProbs.slice(15));
      for (const value of windowed.logProbs) expect(Number.isFinite(value)).toBe(true);
    } finally {
      await small.dispose();
    }
  });
});
