import { rowAt, softmax } from '@kd/compress';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCorpus, type CorpusDocument } from '@kd/text';
import { loadTeacher, type Teacher } from './teacher.js';
import { devCorpus, tinyWithPastDir } from './test-fixtures.js';

let teacher: Teacher;
beforeAll(async () => {
  teacher = await loadTeacher(tinyWithPastDir);
});
afterAll(async () => {
  await teacher?.close();
});

describe('a Hugging Face export with past_key_values inputs', () => {
  it('reads the cache inputs from the graph and feeds them empty', () => {
    expect(teacher.signature.positionIds?.name).toBe('position_ids');
    expect(teacher.signature.past.map((past) => past.name)).toEqual([
      'past_key_values.0.key',
      'past_key_values.0.value',
      'past_key_values.1.key',
      'past_key_values.1.value',
    ]);
    expect(teacher.signature.past.every((past) => past.heads === 2 && past.headDim === 16)).toBe(true);
  });

  it('reproduces the greedy probe of the fixture README, one full forward per step', async () => {
    const ids = [1, 816, 272, 905];
    const generated: number[] = [];
    for (let step = 0; step < 12; step++) {
      const rows = await teacher.labelTokenIds(ids, { spec: { mode: 'fixed', k: 1 } });
      const next = rowAt(rows, rows.length - 1).ids[0];
      generated.push(next);
      ids.push(next);
    }
    expect(generated).toEqual([302, 272, 2969, 3543, 28723, 415, 2969, 3543, 659, 750, 12060, 601]);
  });

  // onnxruntime's Softmax sums 32,000 exponentials in float32: against a float64 softmax its rows
  // are off by up to ~1e-4 (relative) where one token dominates, as this weak model's first row does.
  const tolerance = 1e-4;

  it('labels corpus documents with fast-path probabilities equal to softmax of the full logits', async () => {
    const documents: CorpusDocument[] = [];
    for await (const document of readCorpus(devCorpus, { tasks: ['translate', 'classify'], limit: 3 })) documents.push(document);
    let checked = 0;
    for await (const labelled of teacher.label(documents, { spec: { mode: 'fixed', k: 8 }, batchSize: 2 })) {
      const { tokenIds, rows } = labelled;
      expect(rows.length).toBe(tokenIds.length);
      const logits = await teacher.forwardLogits(Int32Array.from(tokenIds), undefined, 1, tokenIds.length);
      for (let position = 0; position < tokenIds.length; position++) {
        const reference = softmax(logits.slice(position * teacher.vocabSize, (position + 1) * teacher.vocabSize));
        const row = rowAt(rows, position);
        for (let i = 0; i < row.ids.length; i++) expect(Math.abs(row.probs[i] - reference[row.ids[i]])).toBeLessThan(tolerance);
        expect(Math.abs(row.probs[0] - Math.max(...reference))).toBeLessThan(tolerance);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(30);
  });
});
