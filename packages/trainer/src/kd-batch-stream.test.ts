import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CodecError } from '@kd/codec-parquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLabelsBatches } from './kd-batch-stream.js';
import type { TeacherBatch } from './kd-batches.js';
import { openLabelsSampler, type SamplerSettings } from './kd-sampler.js';
import { studentTokenizerPath, writeTestLabels } from './kd-test-labels.js';
import { teacherTokenizer } from './test-fixtures.js';

let labels: string;
const folders: string[] = [];
beforeAll(async () => {
  labels = await writeTestLabels({ documents: 10, rowsPerPart: 300 });
  folders.push(labels);
});
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

const settings: SamplerSettings = {
  teacherTokenizer,
  studentTokenizer: studentTokenizerPath,
  mapping: 'first-piece',
  sequenceLength: 16,
  batchSize: 3,
  seed: 5,
  tail: 'bucket',
  categories: 'prefix-group',
  shuffleParts: 2,
};

/** A batch as plain arrays, to compare one made in the worker with one made here. */
function plain(batch: TeacherBatch): unknown {
  const { targets } = batch;
  return {
    position: batch.position,
    epoch: batch.epoch,
    tokens: [...batch.tokens],
    origins: [...batch.origins],
    width: targets.width,
    ids: [...targets.ids],
    probs: [...targets.probs],
    residual: [...targets.residual],
    present: [...targets.present],
    category: targets.category ? [...targets.category] : null,
    lengths: targets.lengths ? [...targets.lengths] : null,
  };
}

describe('teacher-row batches from the batch worker', () => {
  it('are the batches the sampler gives in this thread, in order, ahead and out of order', async () => {
    const here = await openLabelsSampler(labels, settings);
    const worker = await openLabelsBatches(labels, settings, 3);
    try {
      expect(worker.width).toBe(here.sampler.width);
      expect(worker.tokens).toBe(here.sampler.tokens);
      expect(worker.studentVocabSize).toBe(here.studentVocabSize);
      expect(worker.sampled).toBe(false);
      // In order (each asks for three more ahead), then a jump as a resume makes, then back.
      for (const position of [0, 1, 2, 3, 4, 11, 12, 2]) {
        expect(plain(await worker.batchAt(position)), `position ${position}`).toEqual(plain(await here.sampler.batchAt(position)));
      }
    } finally {
      await worker.close();
    }
  });

  it('refuses a damaged part with the codec’s own error, before any batch', async () => {
    const damaged = await mkdtemp(join(tmpdir(), 'kd-damaged-'));
    folders.push(damaged);
    await cp(labels, damaged, { recursive: true });
    const part = (await readdir(damaged)).find((name) => name.endsWith('.parquet'))!;
    const bytes = await readFile(join(damaged, part));
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(join(damaged, part), bytes);
    const error = await openLabelsBatches(damaged, settings).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CodecError);
    expect((error as CodecError).code).toBe('E_CHECKSUM');
    expect((error as Error).message).toMatch(/sha256 mismatch.*damaged/);
  });
});
