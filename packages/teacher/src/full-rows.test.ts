import { rowAt, softmax } from '@kd/compress';
import { readCorpus, type CorpusDocument } from '@kd/text';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTeacher, type Teacher } from './teacher.js';
import { devCorpus, teacherDir } from './test-fixtures.js';

const temperature = 2;
let teacher: Teacher;
let documents: CorpusDocument[];
beforeAll(async () => {
  teacher = await loadTeacher(teacherDir, { temperature, topK: 8 });
  documents = [];
  for await (const document of readCorpus(devCorpus, { tasks: ['classify'], limit: 2 })) documents.push(document);
});
afterAll(async () => {
  await teacher?.close();
});

/** The whole softmax at τ of every position of a framed document, from the original graph's logits. */
async function referenceRows(text: string): Promise<Float32Array[]> {
  const { ids } = await teacher.tokenizer.frame(text);
  const logits = await teacher.forwardLogits(Int32Array.from(ids), undefined, 1, ids.length);
  const vocab = teacher.vocabSize;
  return Array.from({ length: ids.length }, (_, t) => softmax(logits.slice(t * vocab, (t + 1) * vocab), temperature));
}

describe('labelFull', () => {
  it('keeps every teacher probability of a position: the whole softmax at τ, Σ = 1, equal to the logits computed independently', { timeout: 120_000 }, async () => {
    // topK 8 at load bounds label(), not labelFull: nothing is selected here.
    const labelled = [];
    for await (const document of teacher.labelFull(documents)) labelled.push(document);
    expect(labelled.map((document) => document.text)).toEqual(documents.map((document) => document.text));
    const rows = labelled[0]!.rows;
    const reference = await referenceRows(documents[0]!.text);
    expect(rows.length).toBe(reference.length);
    for (const position of [0, 1, Math.floor(rows.length / 2), rows.length - 1]) {
      const row = rowAt(rows, position);
      expect(row.ids.length).toBe(teacher.vocabSize);
      expect(row.tailMass).toBe(0);
      let sum = 0;
      let largest = 0;
      row.ids.forEach((id, i) => {
        expect(id).toBe(i);
        sum += row.probs[i]!;
        largest = Math.max(largest, Math.abs(row.probs[i]! - reference[position]![id]!));
      });
      expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
      expect(largest).toBeLessThan(1e-5);
    }
  });

  it('folds each probability into its column and the unfolded mass into the tail', { timeout: 120_000 }, async () => {
    const vocab = teacher.vocabSize;
    // Column = id mod 5 for even ids; odd ids are left out (their mass becomes the tail).
    const columnOf = new Int32Array(vocab).map((_, id) => (id % 2 === 0 ? (id / 2) % 5 : -1));
    const ids = Uint32Array.of(100, 7, 42, 3, 9);
    const labelled = [];
    for await (const document of teacher.labelFull(documents.slice(0, 1), { fold: { columnOf, ids } })) labelled.push(document);
    const rows = labelled[0]!.rows;
    const reference = await referenceRows(documents[0]!.text);
    for (const position of [0, rows.length - 1]) {
      const row = rowAt(rows, position);
      expect([...row.ids]).toEqual([...ids]);
      const expected = new Float64Array(5);
      let tail = 0;
      reference[position]!.forEach((p, id) => (columnOf[id]! >= 0 ? (expected[columnOf[id]!] += p) : (tail += p)));
      row.probs.forEach((p, column) => expect(Math.abs(p - expected[column]!)).toBeLessThan(1e-5));
      expect(Math.abs(row.tailMass - tail)).toBeLessThan(1e-5);
    }
  });

  it('refuses a fold built for another vocabulary', async () => {
    const documentsOnce = teacher.labelFull(documents, { fold: { columnOf: new Int32Array(10), ids: Uint32Array.of(0) } });
    await expect(documentsOnce.next()).rejects.toThrow(/fold.columnOf has 10 entries but the teacher's vocabulary 32000/);
  });
});
