import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rowAt, sliceRows, softmax, type SparseRows } from '@kd/compress';
import { expectSameRows } from '@kd/compress/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCorpus, type CorpusDocument } from '@kd/text';
import { loadTeacher, type Teacher } from './teacher.js';
import { devCorpus, teacherDir } from './test-fixtures.js';

// The parity probe of ../shared/fixtures/teacher-llama-13m/README.md.
const probeIds = [1, 415, 8463, 302, 272, 2969, 3543, 4579];
const probeTop = [347, 506, 3688, 5556, 8799];
const probeProbabilities = [0.074414, 0.06993, 0.066244, 0.050655, 0.050025];

let teacher: Teacher;
let documents: CorpusDocument[];
beforeAll(async () => {
  teacher = await loadTeacher(teacherDir);
  documents = [];
  for await (const document of readCorpus(devCorpus, { tasks: ['translate', 'classify'], limit: 6 })) documents.push(document);
});
afterAll(async () => {
  await teacher?.close();
});

/** Softmax (at temperature τ) of the full logits of `ids` at each position, one forward pass. */
async function fullRows(ids: ArrayLike<number>, temperature = 1): Promise<Float32Array[]> {
  const logits = await teacher.forwardLogits(Int32Array.from(ids), undefined, 1, ids.length);
  const vocab = teacher.vocabSize;
  return Array.from({ length: ids.length }, (_, t) => softmax(logits.slice(t * vocab, (t + 1) * vocab), temperature));
}

// onnxruntime's Softmax sums the exponentials in float32, so fast-path rows differ from a float64
// softmax of the same logits by up to ~1e-4 (relative); the README probe itself holds to 2e-5.
const fastPathTolerance = 1e-4;

/** Every kept probability equals the reference for its id, and no id left out has a larger one. */
function expectRowMatches(rows: SparseRows, position: number, reference: Float32Array, tolerance = fastPathTolerance): void {
  const row = rowAt(rows, position);
  const kept = new Set(row.ids);
  row.ids.forEach((id, i) => expect(Math.abs(row.probs[i] - reference[id])).toBeLessThan(tolerance));
  const smallestKept = row.probs[row.probs.length - 1];
  let largestLeftOut = 0;
  for (let id = 0; id < reference.length; id++) if (!kept.has(id)) largestLeftOut = Math.max(largestLeftOut, reference[id]);
  expect(largestLeftOut).toBeLessThan(smallestKept + tolerance);
}

describe('teacher-llama-13m', () => {
  it('identifies the model and its tokenizer', () => {
    expect(teacher.modelSha256).toBe('61938fb4bb27b999bf13f53029ec80313069ce8ce472b7521ac55232cd9192b7');
    const tokenizerBytes = readFileSync(join(teacherDir, 'tokenizer.json'));
    expect(teacher.tokenizerSha256).toBe(createHash('sha256').update(tokenizerBytes).digest('hex'));
    expect(teacher.vocabSize).toBe(32000);
    expect(teacher.contextLength).toBe(1024);
    expect(teacher.signature.inputIds.type).toBe('int64');
    expect(teacher.signature.past).toEqual([]);
  });

  it('reproduces the README parity probe through forwardLogits + softmax', async () => {
    const rows = await fullRows(probeIds);
    const last = rows[probeIds.length - 1];
    const top = [...last.keys()].sort((a, b) => last[b] - last[a]).slice(0, 5);
    expect(top).toEqual(probeTop);
    top.forEach((id, i) => expect(Math.abs(last[id] - probeProbabilities[i])).toBeLessThan(2e-5));
  });

  it('reproduces the README parity probe through the fast path (fixed k = 5)', async () => {
    const rows = await teacher.labelTokenIds(probeIds, { spec: { mode: 'fixed', k: 5 } });
    const row = rowAt(rows, probeIds.length - 1);
    expect(Array.from(row.ids)).toEqual(probeTop);
    row.probs.forEach((probability, i) => expect(Math.abs(probability - probeProbabilities[i])).toBeLessThan(2e-5));
    const kept = probeProbabilities.reduce((sum, value) => sum + value, 0);
    expect(Math.abs(row.tailMass - (1 - kept))).toBeLessThan(1e-4);
  });

  it('labels documents as BOS + tokens + EOS with one row per token, in corpus order', async () => {
    const seen: number[] = [];
    let batchTokens = 0;
    let batchDocuments = 0;
    const stream = readCorpus(devCorpus, { tasks: ['translate', 'classify'], limit: 6 });
    for await (const labelled of teacher.label(stream, {
      spec: { mode: 'fixed', k: 4 },
      batchSize: 4,
      onBatch: (info) => {
        batchTokens += info.tokens;
        batchDocuments += info.documents;
      },
    })) {
      const source = documents[seen.length];
      seen.push(labelled.index);
      expect(labelled).toMatchObject({ index: source.index, id: source.id, task: source.task, text: source.text });
      const { tokenIds, offsets, rows, text } = labelled;
      expect(tokenIds[0]).toBe(1);
      expect(tokenIds[tokenIds.length - 1]).toBe(2);
      expect(rows.length).toBe(tokenIds.length);
      expect(offsets.length).toBe(2 * tokenIds.length);
      expect([offsets[0], offsets[1]]).toEqual([0, 0]);
      expect([offsets[offsets.length - 2], offsets[offsets.length - 1]]).toEqual([text.length, text.length]);
      expect(await teacher.tokenizer.decode(tokenIds.subarray(1, -1))).toBe(text);
      batchTokens -= rows.length;
    }
    expect(seen).toEqual(documents.map((document) => document.index));
    expect(batchTokens).toBe(0);
    expect(batchDocuments).toBe(documents.length);
  });

  it('streams: pulls only the documents of the current batch before yielding', async () => {
    let pulled = 0;
    async function* endless(): AsyncGenerator<CorpusDocument> {
      for (let index = 0; ; index++) {
        pulled++;
        yield { ...documents[1], index };
      }
    }
    const received: number[] = [];
    for await (const labelled of teacher.label(endless(), { spec: { mode: 'fixed', k: 2 }, batchSize: 3 })) {
      received.push(labelled.index);
      if (received.length === 4) break;
    }
    expect(received).toEqual([0, 1, 2, 3]);
    // Two batches of three one-window documents were run; nothing beyond them was read.
    expect(pulled).toBe(6);
  });

  it('gives a document the rows of a full-context forward pass when it fits in one window', async () => {
    const [labelled] = await collect(teacher.label(documents.slice(0, 1), { spec: { mode: 'fixed', k: 6 } }));
    const reference = await fullRows(labelled.tokenIds);
    reference.forEach((row, position) => expectRowMatches(labelled.rows, position, row));
  });

  it('windows a long document exactly: each position once, with the left context the window scheme promises', async () => {
    const ids = (await collect(teacher.label(documents.slice(0, 3), { spec: { mode: 'fixed', k: 1 } }))).flatMap((document) => [...document.tokenIds]).slice(0, 45);
    const window = 16;
    const stride = 8;
    const windowed = await teacher.labelTokenIds(ids, { spec: { mode: 'fixed', k: 5 }, window, stride, batchSize: 2 });
    const whole = await teacher.labelTokenIds(ids, { spec: { mode: 'fixed', k: 5 }, window: 64 });
    expect(windowed.length).toBe(ids.length);
    // Positions inside the first window see the whole prefix: the same rows as one window over everything.
    expectSameRows(sliceRows(windowed, 0, window), sliceRows(whole, 0, window));
    // Later positions: window j ends at min(16 + 8j, n) and starts 16 tokens before its end; the rows of
    // positions after window j − 1's end come from it, so they equal a forward pass over ids[start..end).
    let differsFromWhole = false;
    for (let j = 1, previousEnd = window; previousEnd < ids.length; j++) {
      const end = Math.min(window + j * stride, ids.length);
      const start = end - window;
      const reference = await fullRows(ids.slice(start, end));
      for (let position = previousEnd; position < end; position++) {
        expectRowMatches(windowed, position, reference[position - start]);
        const wholeRow = rowAt(whole, position);
        if (Math.abs(wholeRow.probs[0] - rowAt(windowed, position).probs[0]) > 1e-4) differsFromWhole = true;
      }
      previousEnd = end;
    }
    // The check above is not vacuous: cutting the context does change the rows.
    expect(differsFromWhole).toBe(true);
  });

  it('gives the same rows with padded batches as one window at a time', async () => {
    // Short documents first so that some batch is shorter than the window, and long ones split
    // into windows that share batches with short ones (padding).
    const mixed = [1, 2, 0, 4, 3, 5].map((i) => documents[i]);
    const options = { spec: { mode: 'fixed', k: 8 } as const, window: 64, stride: 32 };
    const single = await collect(teacher.label(mixed, { ...options, batchSize: 1 }));
    const batched = await collect(teacher.label(mixed, { ...options, batchSize: 2 }));
    const wide = await collect(teacher.label(mixed, { ...options, batchSize: 7 }));
    expect(batched.map((document) => document.index)).toEqual(mixed.map((document) => document.index));
    expect(single.some((document) => document.tokenIds.length > options.window)).toBe(true);
    expect(single.some((document) => document.tokenIds.length < options.window)).toBe(true);
    batched.forEach((document, i) => expectSameRows(document.rows, single[i].rows));
    wide.forEach((document, i) => expectSameRows(document.rows, single[i].rows));
  });

  it('keeps the fewest probabilities reaching p in adaptive mode, within [kMin, kMax]', async () => {
    const spec = { mode: 'adaptive', p: 0.8, kMin: 2, kMax: 24 } as const;
    const [labelled] = await collect(teacher.label(documents.slice(1, 2), { spec }));
    let hitKMax = 0;
    for (let position = 0; position < labelled.rows.length; position++) {
      const { probs, tailMass } = rowAt(labelled.rows, position);
      const sum = probs.reduce((total, value) => total + value, 0);
      expect(probs.length).toBeGreaterThanOrEqual(spec.kMin);
      expect(probs.length).toBeLessThanOrEqual(spec.kMax);
      if (probs.length === spec.kMax) hitKMax++;
      else expect(sum).toBeGreaterThanOrEqual(spec.p - 1e-6);
      // Fewest: without its last entry the row would fall short of p (unless kMin holds it).
      if (probs.length > spec.kMin) expect(sum - probs[probs.length - 1]).toBeLessThan(spec.p);
      expect(Math.abs(tailMass - (1 - sum))).toBeLessThan(1e-6);
    }
    expect(hitKMax).toBeLessThan(labelled.rows.length);
  });

  it('flattens the distribution at temperature 2: softmax(logits / 2)', async () => {
    const hot = await loadTeacher(teacherDir, { temperature: 2, threads: 1 });
    try {
      expect(hot.temperature).toBe(2);
      const rows = await hot.labelTokenIds(probeIds, { spec: { mode: 'fixed', k: 16 } });
      const cold = await teacher.labelTokenIds(probeIds, { spec: { mode: 'fixed', k: 16 } });
      const reference = await fullRows(probeIds, 2);
      reference.forEach((row, position) => expectRowMatches(rows, position, row));
      const last = probeIds.length - 1;
      expect(rowAt(rows, last).probs[0]).toBeLessThan(rowAt(cold, last).probs[0]);
      expect(rowAt(rows, last).tailMass).toBeGreaterThan(rowAt(cold, last).tailMass);
    } finally {
      await hot.close();
    }
  });

  it('refuses windows longer than the context length and use after close', async () => {
    await expect(teacher.labelTokenIds(probeIds, { spec: { mode: 'fixed', k: 1 }, window: 4096 })).rejects.toMatchObject({ code: 'E_OPTIONS' });
    await expect(teacher.labelTokenIds(probeIds, { spec: { mode: 'fixed', k: 0 } })).rejects.toMatchObject({ code: 'E_K_RANGE' });
    const other = await loadTeacher(teacherDir, { threads: 1 });
    await other.close();
    await expect(other.labelTokenIds(probeIds, { spec: { mode: 'fixed', k: 1 } })).rejects.toMatchObject({ code: 'E_OPTIONS' });
  });
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
