import { join } from 'node:path';
import { rowAt, softmax } from '@kd/compress';
import { loadTeacher } from '@kd/teacher';
import { loadTokenizer, type Tokenizer } from '@kd/text';
import { loadCheckpoint, TeacherBatchSampler, type TrainOptionsInput } from '@kd/trainer';
import { buildVocabularyMap, type VocabularyMap } from '@kd/vocab-align';
import { beforeAll, describe, expect, it } from 'vitest';
import { distillOnline } from './online-distill.js';
import { openOnlineTeacherRows } from './online-rows.js';
import { devCorpus as corpus, studentTokenizer, teacherDir, temporaryFolders } from './test-fixtures.js';

const full = { mode: 'full' } as const;
const rowsPerPart = 600;
const corpusSlice = { tasks: ['classify'] as const, limit: 40 };

const fresh = temporaryFolders();

let student: Tokenizer;
let map: VocabularyMap;
beforeAll(async () => {
  student = await loadTokenizer(studentTokenizer);
  map = await buildVocabularyMap(await loadTokenizer(join(teacherDir, 'tokenizer.json')), student, { rule: 'first-piece' });
});

describe('online full-distribution distillation', () => {
  it('maps every teacher probability onto the student vocabulary: Σ = 1, equal to the softmax of the logits mapped independently', { timeout: 600_000 }, async () => {
    const temperature = 2;
    const online = await openOnlineTeacherRows({ teacher: teacherDir, corpus, ...corpusSlice, tasks: [...corpusSlice.tasks], compression: full, rowsPerPart, temperature });
    const reference = await loadTeacher(teacherDir, { temperature });
    try {
      expect(online.studentIds).toBe(true);
      await expect(online.part(0)).rejects.toThrow(/useVocabulary/);
      online.useVocabulary!(map.teacherToStudent, student.vocabSize);
      const mappedIds = new Set(map.teacherToStudent);
      expect(online.width).toBe(mappedIds.size);
      expect(online.width!).toBeLessThanOrEqual(student.vocabSize);
      const [document] = await online.part(0);
      const { ids } = await reference.tokenizer.frame(document!.text);
      expect(document!.rows.length).toBe(ids.length);
      const logits = await reference.forwardLogits(Int32Array.from(ids), undefined, 1, ids.length);
      const vocab = reference.vocabSize;
      for (const position of [0, 3, ids.length - 1]) {
        const probabilities = softmax(logits.slice(position * vocab, (position + 1) * vocab), temperature);
        const expected = new Float64Array(student.vocabSize);
        probabilities.forEach((p, teacherId) => (expected[map.teacherToStudent[teacherId]!] += p));
        const row = rowAt(document!.rows, position);
        expect(row.ids.length).toBe(mappedIds.size);
        expect(row.tailMass).toBe(0);
        let sum = 0;
        let largest = 0;
        row.ids.forEach((studentId, at) => {
          sum += row.probs[at]!;
          largest = Math.max(largest, Math.abs(row.probs[at]! - expected[studentId]!));
        });
        expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
        expect(largest).toBeLessThan(1e-5);
      }
    } finally {
      await online.close();
      await reference.close();
    }
  });

  it("bounds a batch's targets by the student vocabulary: one entry per mapped student id, never one per teacher id", { timeout: 600_000 }, async () => {
    const online = await openOnlineTeacherRows({ teacher: teacherDir, corpus, tasks: [...corpusSlice.tasks], limit: 6, compression: full, rowsPerPart });
    try {
      online.useVocabulary!(map.teacherToStudent, student.vocabSize);
      const options = { sequenceLength: 16, batchSize: 2, seed: 1, teacherToStudent: map.teacherToStudent, studentVocabSize: student.vocabSize, tail: 'renormalize' as const, shuffleParts: 1 };
      const sampler = new TeacherBatchSampler(online, (text) => student.frame(text, { bos: true, eos: true }), { ...options, width: online.width! });
      await sampler.open();
      const batch = await sampler.batchAt(0);
      expect(sampler.width).toBe(online.width);
      expect(batch.targets.width).toBeLessThan(student.vocabSize);
      expect(batch.targets.ids.length).toBe(2 * 16 * online.width!);
      let present = 0;
      for (let row = 0; row < batch.targets.rows; row++) {
        if (!batch.targets.present[row]) continue;
        present++;
        let sum = 0;
        for (let k = 0; k < batch.targets.width; k++) sum += batch.targets.probs[row * batch.targets.width + k]!;
        expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
      }
      expect(present).toBeGreaterThan(0);
      // A source that declares more ids per row than the student has is capped at the student vocabulary.
      const wide = new TeacherBatchSampler({ parts: 1, width: 32_000, part: async () => [] }, (text) => student.frame(text), { ...options, width: 32_000 });
      expect(wide.width).toBe(student.vocabSize);
    } finally {
      await online.close();
    }
  });

  it('refuses quantization with full-distribution rows', async () => {
    await expect(openOnlineTeacherRows({ teacher: teacherDir, corpus, compression: full, quantization: 'u8-log' })).rejects.toThrow(/quantization u8-log does not apply to compression mode full/);
  });

  it('trains a student that learns (loss falls) and is deterministic: the same seed gives the same weights', { timeout: 600_000 }, async () => {
    const base = (out: string): TrainOptionsInput => ({
      objective: 'kd',
      studentTokenizer,
      out,
      model: { hiddenSize: 32, intermediateSize: 64, layers: 1, heads: 2, maxPositions: 64 },
      steps: 8,
      batchSize: 2,
      sequenceLength: 16,
      learningRate: 2e-2,
      warmupSteps: 1,
      seed: 4,
      alpha: 0.5,
      checkpointEvery: 100,
      backend: 'wasm',
      teacher: teacherDir,
      corpus,
      tasks: [...corpusSlice.tasks],
      limit: corpusSlice.limit,
    });
    const outs = [await fresh('kd-online-full-a-'), await fresh('kd-online-full-b-')];
    const visits: { index: number; positions: number }[] = [];
    const first = await distillOnline(base(outs[0]!), { compression: full, rowsPerPart }, { onTeacherPart: ({ index, positions }) => visits.push({ index, positions }) });
    const second = await distillOnline(base(outs[1]!), { compression: full, rowsPerPart });
    // The teacher ran in the loop: each part it labelled is reported with its positions.
    expect(visits.length).toBeGreaterThan(0);
    expect(visits.every((visit) => visit.positions > 0)).toBe(true);
    expect(first.losses).toHaveLength(8);
    expect(first.losses.every(Number.isFinite)).toBe(true);
    expect((first.losses[6]! + first.losses[7]!) / 2).toBeLessThan((first.losses[0]! + first.losses[1]!) / 2);
    expect(second.losses).toEqual(first.losses);
    const [a, b] = [await loadCheckpoint(outs[0]!), await loadCheckpoint(outs[1]!)];
    try {
      for (const [name, parameter] of a.model.parameters) expect(b.model.parameters.get(name)!.dataSync()).toEqual(parameter.dataSync());
    } finally {
      a.model.dispose();
      b.model.dispose();
    }
  });
});
