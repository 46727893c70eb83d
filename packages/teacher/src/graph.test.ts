import { rm } from 'node:fs/promises';
import { rowAt, softmax, type SparseRows } from '@kd/compress';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTeacher } from './teacher.js';
import { lookupTable, tableModel, teacherFolder } from './test-models.js';

const vocab = 48;
const folders: string[] = [];
afterAll(async () => {
  for (const dir of folders) await rm(dir, { recursive: true, force: true });
});

/** Checks each row against softmax(table[id] / τ): the kept probabilities are the largest, with their own ids. */
function expectRowsMatchTable(rows: SparseRows, ids: number[], temperature: number, k: number): void {
  const table = lookupTable(vocab);
  expect(rows.length).toBe(ids.length);
  ids.forEach((id, position) => {
    const reference = softmax(table.slice(id * vocab, (id + 1) * vocab), temperature);
    const sorted = [...reference].sort((a, b) => b - a);
    const row = rowAt(rows, position);
    expect(row.ids.length).toBe(k);
    let kept = 0;
    row.ids.forEach((keptId, i) => {
      expect(row.probs[i]).toBeCloseTo(reference[keptId], 6);
      expect(row.probs[i]).toBeCloseTo(sorted[i], 6);
      kept += row.probs[i];
    });
    expect(row.tailMass).toBeCloseTo(1 - kept, 6);
  });
}

describe('fast path on built models', () => {
  it('drives int32 ids and fp16 logits, applying the temperature inside the graph', async () => {
    const dir = await teacherFolder(tableModel({ vocab, idsType: 'int32', logitsType: 'float16' }), vocab);
    folders.push(dir);
    const teacher = await loadTeacher(dir, { temperature: 1.5, threads: 1 });
    try {
      expect(teacher.signature.inputIds.type).toBe('int32');
      expect(teacher.signature.logits.type).toBe('float16');
      expect(teacher.vocabSize).toBe(vocab);
      const ids = [3, 7, 7, 40, 0, 47];
      expectRowsMatchTable(await teacher.labelTokenIds(ids, { spec: { mode: 'fixed', k: 6 } }), ids, 1.5, 6);
      // The original graph's fp16 logits come back as float32, equal to the (fp16-exact) table.
      const logits = await teacher.forwardLogits(Int32Array.from(ids), undefined, 1, ids.length);
      const table = lookupTable(vocab);
      expect(Array.from(logits.subarray(3 * vocab, 4 * vocab))).toEqual(Array.from(table.subarray(40 * vocab, 41 * vocab)));
    } finally {
      await teacher.close();
    }
  });

  it('drives int64 ids and fp32 logits, batching windows of several documents', async () => {
    const dir = await teacherFolder(tableModel({ vocab, idsType: 'int64', logitsType: 'float32' }), vocab);
    folders.push(dir);
    const teacher = await loadTeacher(dir, { threads: 1 });
    try {
      const ids = Array.from({ length: 37 }, (_, i) => (i * 11) % vocab);
      const rows = await teacher.labelTokenIds(ids, { spec: { mode: 'fixed', k: 4 }, window: 8, stride: 3, batchSize: 3 });
      expectRowsMatchTable(rows, ids, 1, 4);
    } finally {
      await teacher.close();
    }
  });

  it('refuses a spec that needs more candidates than topK allows, and ids outside the vocabulary', async () => {
    const dir = await teacherFolder(tableModel({ vocab }), vocab);
    folders.push(dir);
    const teacher = await loadTeacher(dir, { topK: 4, threads: 1 });
    try {
      await expect(teacher.labelTokenIds([1, 2], { spec: { mode: 'fixed', k: 5 } })).rejects.toMatchObject({ code: 'E_OPTIONS' });
      await expect(teacher.labelTokenIds([1, vocab], { spec: { mode: 'fixed', k: 2 } })).rejects.toMatchObject({ code: 'E_OPTIONS' });
      const rows = await teacher.labelTokenIds([1, 2], { spec: { mode: 'fixed', k: 2 } });
      // topK 4 candidates, fixed k 2 keeps 2.
      expect(rows.offsets[2]).toBe(4);
    } finally {
      await teacher.close();
    }
  });
});
