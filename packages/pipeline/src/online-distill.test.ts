import { join } from 'node:path';
import { openDatasetWriter, openDataset } from '@kd/codec-parquet';
import { loadTeacher } from '@kd/teacher';
import { readCorpus } from '@kd/text';
import { loadCheckpoint, train, type TrainOptionsInput } from '@kd/trainer';
import { beforeAll, describe, expect, it } from 'vitest';
import { distillOnline } from './online-distill.js';
import { openOnlineTeacherRows } from './online-rows.js';
import { devCorpus as corpus, studentTokenizer, teacherDir, temporaryFolders } from './test-fixtures.js';

const compression = { mode: 'adaptive', p: 0.9, kMin: 1, kMax: 16 } as const;
const rowsPerPart = 600;
const corpusSlice = { tasks: ['classify'] as const, limit: 40 };

const fresh = temporaryFolders();

/** What `kd label` writes for the slice: teacher rows through the codec. */
async function labelOffline(): Promise<string> {
  const dir = await fresh('kd-online-labels-');
  const teacher = await loadTeacher(teacherDir, { topK: compression.kMax });
  try {
    const writer = await openDatasetWriter(
      dir,
      { teacher: { id: 'teacher-llama-13m', sha256: teacher.modelSha256 }, tokenizer: { sha256: teacher.tokenizerSha256 }, vocabSize: teacher.vocabSize, temperature: 1, compression },
      { rowsPerPart },
    );
    for await (const document of teacher.label(readCorpus(corpus, { tasks: [...corpusSlice.tasks], limit: corpusSlice.limit }), { spec: compression })) await writer.append(document);
    await writer.close();
  } finally {
    await teacher.close();
  }
  return dir;
}

let labels: string;
beforeAll(async () => {
  labels = await labelOffline();
}, 600_000);

describe('online distillation', () => {
  it('gives the parts, documents and rows a kd label dataset of the same corpus holds', { timeout: 600_000 }, async () => {
    const reader = await openDataset(labels);
    const online = await openOnlineTeacherRows({ teacher: teacherDir, corpus, tasks: [...corpusSlice.tasks], limit: corpusSlice.limit, compression, rowsPerPart });
    try {
      expect(online.parts).toBeGreaterThan(1);
      expect(online.partDocuments).toEqual(reader.manifest.parts.map((part) => part.documents));
      for (const index of [0, online.parts - 1]) {
        const [stored, labelled] = [await reader.part(index), await online.part(index)];
        expect(labelled.map((document) => document.text)).toEqual(stored.map((document) => document.text));
        labelled.forEach((document, at) => {
          expect(document.offsets).toEqual(stored[at]!.offsets);
          expect(document.rows).toEqual(stored[at]!.rows);
        });
      }
    } finally {
      await online.close();
    }
  });

  it('trains the same student as offline labels from the same corpus and seed: equal weights', { timeout: 600_000 }, async () => {
    const base = (out: string): TrainOptionsInput => ({
      objective: 'kd',
      studentTokenizer,
      out,
      model: { hiddenSize: 32, intermediateSize: 64, layers: 1, heads: 2, maxPositions: 64 },
      steps: 3,
      batchSize: 2,
      sequenceLength: 16,
      learningRate: 1e-2,
      seed: 4,
      alpha: 0.6,
      checkpointEvery: 100,
      backend: 'wasm',
    });
    const offlineOut = await fresh('kd-offline-');
    const offline = await train({ ...base(offlineOut), labels, teacherTokenizer: join(teacherDir, 'tokenizer.json') });
    const onlineOut = await fresh('kd-online-');
    const online = await distillOnline({ ...base(onlineOut), teacher: teacherDir, corpus, tasks: [...corpusSlice.tasks], limit: corpusSlice.limit }, { compression, rowsPerPart });
    expect(online.losses).toEqual(offline.losses);
    const [a, b] = [await loadCheckpoint(offlineOut), await loadCheckpoint(onlineOut)];
    try {
      for (const [name, parameter] of a.model.parameters) expect(b.model.parameters.get(name)!.dataSync()).toEqual(parameter.dataSync());
    } finally {
      a.model.dispose();
      b.model.dispose();
    }
  });
});
