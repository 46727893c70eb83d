import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { freshDatasetPath } from './expect-document.js';
import { openDataset, openDatasetWriter, verifyDataset } from './index.js';
import { syntheticCorpus, testHeader } from './synthetic.js';

test('a flipped byte in a part is reported by verify and stops the reader before that part', async () => {
  const dir = await freshDatasetPath();
  const writer = await openDatasetWriter(dir, testHeader, { rowsPerPart: 150 });
  for (const document of syntheticCorpus(20, 3)) await writer.append(document);
  const manifest = await writer.close();
  expect(manifest.parts.length).toBeGreaterThanOrEqual(3);
  const damaged = manifest.parts[1];
  const path = join(dir, damaged.file);
  const bytes = await readFile(path);
  bytes[Math.floor(bytes.length / 2)] ^= 0x01;
  await writeFile(path, bytes);

  const report = await verifyDataset(dir);
  expect(report.ok).toBe(false);
  expect(report.parts.filter((part) => !part.ok)).toEqual([
    { file: damaged.file, ok: false, code: 'E_CHECKSUM', problem: expect.stringContaining(damaged.file) },
  ]);

  const yielded: number[] = [];
  const reading = (async () => {
    for await (const document of (await openDataset(dir)).documents()) yielded.push(document.index);
  })();
  await expect(reading).rejects.toMatchObject({ code: 'E_CHECKSUM', message: expect.stringContaining(damaged.file) });
  // Only the documents of the intact first part were yielded: none of the damaged part.
  expect(yielded).toEqual(Array.from({ length: manifest.parts[0].documentCount }, (_, i) => i));
});

test('a missing part is reported, not skipped', async () => {
  const dir = await freshDatasetPath();
  const writer = await openDatasetWriter(dir, testHeader, { rowsPerPart: 150 });
  for (const document of syntheticCorpus(8, 3)) await writer.append(document);
  const manifest = await writer.close();
  await writeFile(join(dir, manifest.parts[0].file), '');
  const report = await verifyDataset(dir);
  expect(report.ok).toBe(false);
  expect(report.parts[0]).toMatchObject({ ok: false, code: 'E_CHECKSUM' });
});
