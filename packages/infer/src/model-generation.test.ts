import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Model } from './model.js';
import { copyFolder } from './test-models.js';
import { tinyWithPastDir } from './test-fixtures.js';

let model: Model;
beforeAll(async () => {
  model = await loadModel(tinyWithPastDir, { threads: 1 });
});
afterAll(async () => {
  await model?.dispose();
});

const prompt = 'The Congress of the United States';

describe('sampling', () => {
  it('gives the same text for the same seed and options', async () => {
    const options = { maxNewTokens: 24, temperature: 0.9, topK: 40, topP: 0.95, minP: 0.02, repetitionPenalty: 1.2 };
    const first = await model.generate(prompt, { ...options, seed: 42 });
    expect(await model.generate(prompt, { ...options, seed: 42 })).toEqual(first);
    const others = await Promise.all([1, 2, 3].map((seed) => model.generate(prompt, { ...options, seed })));
    expect(others.some((other) => other.text !== first.text)).toBe(true);
    // A batch row samples what it samples alone with the same seed.
    const [row] = await model.generateBatch([prompt, 'We the people'], { ...options, seed: 42 });
    expect(row.tokenIds).toEqual(first.tokenIds);
  });

  it('repetition penalty changes greedy output away from repeats', async () => {
    const plain = await model.generate(prompt, { maxNewTokens: 32 });
    const penalized = await model.generate(prompt, { maxNewTokens: 32, repetitionPenalty: 2 });
    const repeats = (ids: number[]) => ids.length - new Set(ids).size;
    expect(repeats(penalized.tokenIds)).toBeLessThan(repeats(plain.tokenIds));
  });
});

describe('stop sequences', () => {
  it('end the text before the stop sequence, in generate and stream alike', async () => {
    const full = await model.generate(prompt, { maxNewTokens: 40 });
    const stop = full.text.slice(12, 16);
    const expected = full.text.slice(0, full.text.indexOf(stop));
    expect(expected.length).toBeGreaterThan(0);
    const stopped = await model.generate(prompt, { maxNewTokens: 40, stop: [stop, 'never appears'] });
    expect(stopped.text).toBe(expected);
    expect(stopped.finishReason).toBe('stop');
    expect(stopped.tokenIds.length).toBeLessThan(full.tokenIds.length);
    const stream = model.stream(prompt, { maxNewTokens: 40, stop });
    let streamed = '';
    for await (const piece of stream) streamed += piece;
    expect(streamed).toBe(expected);
    expect((await stream.result).finishReason).toBe('stop');
  });

  it('block end-of-text until minNewTokens', async () => {
    const result = await model.generate('Hello', { maxNewTokens: 20, minNewTokens: 20 });
    expect(result.tokenIds).toHaveLength(20);
    expect(result.tokenIds).not.toContain(2);
  });
});

describe('cancellation', () => {
  it('rejects generate when the signal fires and ends a stream with the same error', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(model.generate(prompt, { signal: controller.signal })).rejects.toMatchObject({ code: 'E_ABORTED' });
    const later = new AbortController();
    const stream = model.stream(prompt, { maxNewTokens: 200, minNewTokens: 200, signal: later.signal });
    const pieces: string[] = [];
    await expect(
      (async () => {
        for await (const piece of stream) {
          pieces.push(piece);
          if (pieces.length === 3) later.abort();
        }
      })(),
    ).rejects.toMatchObject({ code: 'E_ABORTED' });
    await expect(stream.result).rejects.toMatchObject({ code: 'E_ABORTED' });
    expect(pieces.length).toBeLessThan(100);
  });

  it('stops generating when the reader leaves the loop', async () => {
    const stream = model.stream(prompt, { maxNewTokens: 200, minNewTokens: 200 });
    for await (const piece of stream) if (piece) break;
    await expect(stream.result).rejects.toMatchObject({ code: 'E_ABORTED' });
  });
});

describe('model folder files', () => {
  it('reads generation_config.json and templates.json where present', async () => {
    const copy = await copyFolder(tinyWithPastDir);
    try {
      await writeFile(join(copy.dir, 'generation_config.json'), JSON.stringify({ max_new_tokens: 3, eos_token_id: [2, 13], do_sample: true, temperature: 0.7, top_k: 5 }));
      const templates = { translate: 'Translate from {src_lang} into {tgt_lang}, please.\n{src_lang}: {src}\n{tgt_lang}: {tgt}' };
      await writeFile(join(copy.dir, 'templates.json'), JSON.stringify(templates));
      const configured = await loadModel(copy.dir, { threads: 1 });
      try {
        expect(configured.endOfTextIds).toEqual([2, 13]);
        const result = await configured.generate(prompt, { seed: 1 });
        expect(result.tokenIds.length).toBeLessThanOrEqual(3);
        const seeded = await configured.generate(prompt, { seed: 1 });
        expect(seeded).toEqual(result);
        const plainTranslation = await model.translate('File not found', { maxNewTokens: 1 });
        const ownTemplate = await configured.translate('File not found', { maxNewTokens: 1 });
        const ownPrompt = await configured.tokenizer.frame('Translate from English into German, please.\nEnglish: File not found\nGerman:', { eos: false });
        expect(ownTemplate.usage.promptTokens).toBe(ownPrompt.ids.length);
        expect(ownTemplate.usage.promptTokens).toBeGreaterThan(plainTranslation.usage.promptTokens);
      } finally {
        await configured.dispose();
      }
    } finally {
      await copy.remove();
    }
  });
});

describe('bad input', () => {
  it('refuses an empty prompt, empty text and bad labels with codes', async () => {
    await expect(model.generate('')).rejects.toMatchObject({ code: 'E_EMPTY_PROMPT' });
    await expect(model.stream('').result).rejects.toMatchObject({ code: 'E_EMPTY_PROMPT' });
    await expect(model.score('')).rejects.toMatchObject({ code: 'E_EMPTY_PROMPT' });
    await expect(model.translate('  ')).rejects.toMatchObject({ code: 'E_EMPTY_PROMPT' });
    await expect(model.classify('some mail', [])).rejects.toMatchObject({ code: 'E_LABELS' });
    await expect(model.classify('some mail', ['spam', ''])).rejects.toMatchObject({ code: 'E_LABELS' });
    await expect(model.classify('some mail', ['spam', 'spam'])).rejects.toMatchObject({ code: 'E_LABELS' });
  });

  it('refuses options out of range, naming the option', async () => {
    await expect(model.generate(prompt, { temperature: -1 })).rejects.toMatchObject({ code: 'E_OPTIONS', message: expect.stringContaining('temperature') });
    await expect(model.generate(prompt, { topP: 0 })).rejects.toMatchObject({ code: 'E_OPTIONS', message: expect.stringContaining('topP') });
    await expect(model.generate(prompt, { maxNewTokens: 1.5 })).rejects.toMatchObject({ code: 'E_OPTIONS', message: expect.stringContaining('maxNewTokens') });
    await expect(model.generate(prompt, { max_new_tokens: 3 } as never)).rejects.toMatchObject({ code: 'E_OPTIONS' });
    await expect(loadModel(tinyWithPastDir, { threads: 0 })).rejects.toMatchObject({ code: 'E_OPTIONS', message: expect.stringContaining('threads') });
  });

  it('refuses a prompt longer than the context, or keeps its last tokens when told to', async () => {
    const long = 'We the people of the United States. '.repeat(80);
    await expect(model.generate(long, { maxNewTokens: 4 })).rejects.toMatchObject({ code: 'E_PROMPT_TOO_LONG' });
    const truncated = await model.generate(long, { maxNewTokens: 4, promptOverflow: 'truncate-left' });
    expect(truncated.usage.promptTokens).toBe(model.contextLength - 4);
    expect(truncated.tokenIds).toHaveLength(4);
    const lenient = await loadModel(tinyWithPastDir, { threads: 1, promptOverflow: 'truncate-left' });
    try {
      expect((await lenient.generate(long, { maxNewTokens: 4 })).tokenIds).toEqual(truncated.tokenIds);
    } finally {
      await lenient.dispose();
    }
  });

  it('ends with finishReason length when the context fills up', async () => {
    const near = 'We the people of the United States. '.repeat(44);
    const { ids } = await model.tokenizer.frame(near, { eos: false });
    expect(ids.length).toBeLessThan(model.contextLength);
    const result = await model.generate(near, { maxNewTokens: 200, minNewTokens: 200 });
    expect(result.finishReason).toBe('length');
    expect(result.usage.promptTokens + result.usage.completionTokens).toBe(model.contextLength);
  });

  it('refuses folders with missing files and a tokenizer that does not fit', async () => {
    await expect(loadModel(join(tinyWithPastDir, 'missing'))).rejects.toMatchObject({ code: 'E_MODEL_NOT_FOUND' });
    const copy = await copyFolder(tinyWithPastDir);
    try {
      const tokenizerFile = join(copy.dir, 'tokenizer.json');
      const tokenizer = JSON.parse(await readFile(tokenizerFile, 'utf8'));
      tokenizer.added_tokens.push({ id: 40000, content: '<extra>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
      await writeFile(tokenizerFile, JSON.stringify(tokenizer));
      await expect(loadModel(copy.dir)).rejects.toMatchObject({ code: 'E_TOKENIZER_MISMATCH', message: expect.stringContaining('40000') });
      await writeFile(tokenizerFile, '{ not json');
      await expect(loadModel(copy.dir)).rejects.toMatchObject({ code: 'E_MODEL_FORMAT' });
      await writeFile(join(copy.dir, 'model.onnx'), 'not a graph');
      await expect(loadModel(copy.dir)).rejects.toMatchObject({ code: 'E_MODEL_FORMAT' });
      await writeFile(join(copy.dir, 'config.json'), '[');
      await expect(loadModel(copy.dir)).rejects.toMatchObject({ code: 'E_MODEL_FORMAT', message: expect.stringContaining('config.json') });
      const { rm } = await import('node:fs/promises');
      await rm(tokenizerFile);
      await expect(loadModel(copy.dir)).rejects.toMatchObject({ code: 'E_MODEL_NOT_FOUND', message: expect.stringContaining('tokenizer.json') });
      await rm(join(copy.dir, 'model.onnx'));
      await expect(loadModel(copy.dir)).rejects.toMatchObject({ code: 'E_MODEL_NOT_FOUND', message: expect.stringContaining('model.onnx') });
    } finally {
      await copy.remove();
    }
  });

  it('refuses calls after dispose', async () => {
    const disposable = await loadModel(tinyWithPastDir, { threads: 1 });
    await disposable.dispose();
    await expect(disposable.generate(prompt)).rejects.toMatchObject({ code: 'E_DISPOSED' });
    await expect(disposable.score(prompt)).rejects.toMatchObject({ code: 'E_DISPOSED' });
  });
});
