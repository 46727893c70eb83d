// Datasets stored in format version 1 (ids rank-rice, written by @kd/codec-parquet before
// version 2) still read; resuming one is refused with what to do instead.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, test } from 'vitest';
import { formatVersion, openDataset, openDatasetWriter, verifyDataset } from './index.js';
import { roundTripRows } from './round-trip.js';
import { syntheticCorpus, testHeader } from './synthetic.js';

const formatOne = fileURLToPath(new URL('../test-fixtures/format-1', import.meta.url));
const work = await mkdtemp(join(tmpdir(), 'kd-codec-versions-'));
afterAll(() => rm(work, { recursive: true, force: true }));

test('a format-1 dataset reads back the documents it was written from, as format 2 does', async () => {
  // test-fixtures/format-1 holds syntheticCorpus(12, 11) written with rowsPerPart 200.
  const expected = syntheticCorpus(12, 11);
  const reader = await openDataset(formatOne);
  expect(reader.manifest.formatVersion).toBe(1);
  expect(reader.manifest.idPacking).toBe('rank-rice');
  const again = join(work, 'format-2');
  const writer = await openDatasetWriter(again, testHeader, { rowsPerPart: 200 });
  for (const document of expected) await writer.append(document);
  expect((await writer.close()).formatVersion).toBe(formatVersion);
  const fresh = [];
  for await (const document of (await openDataset(again)).documents()) fresh.push(document);
  let d = 0;
  for await (const document of reader.documents()) {
    expect(document.text).toBe(expected[d].text);
    expect(document.rows.ids).toEqual(expected[d].rows.ids);
    expect(document.rows.probs).toEqual(roundTripRows(expected[d].rows, 'u8-log').probs);
    expect(document).toEqual(fresh[d]);
    d++;
  }
  expect(d).toBe(12);
  expect((await verifyDataset(formatOne)).ok).toBe(true);
});

test('resuming a format-1 dataset is refused with the way out', async () => {
  const copy = join(work, 'format-1-copy');
  await cp(formatOne, copy, { recursive: true });
  await expect(openDatasetWriter(copy, testHeader, { resume: true })).rejects.toMatchObject({
    code: 'E_FORMAT_VERSION',
    message: expect.stringMatching(/format version 1.*writes 2.*new folder/),
  });
});
