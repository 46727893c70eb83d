import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabelledDocument } from '@kd/compress';
import { expect, test } from 'vitest';
import { freshDatasetPath } from './expect-document.js';
import { type Manifest, openDataset, openDatasetWriter, verifyDataset } from './index.js';
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

async function writtenDataset(documents = 20): Promise<{ dir: string; manifest: Manifest }> {
  const dir = await freshDatasetPath();
  const writer = await openDatasetWriter(dir, testHeader, { rowsPerPart: 150 });
  for (const document of syntheticCorpus(documents, 3)) await writer.append(document);
  return { dir, manifest: await writer.close() };
}

test.each([
  ['the teacher sha256', (manifest: Manifest) => ({ ...manifest, teacher: { ...manifest.teacher, sha256: 'c'.repeat(64) } }), /teacher: the part says/],
  ['the tokenizer sha256', (manifest: Manifest) => ({ ...manifest, tokenizer: { sha256: 'd'.repeat(64) } }), /tokenizer: the part says/],
  ['p', (manifest: Manifest) => ({ ...manifest, compression: { mode: 'adaptive', p: 0.5, kMin: 1, kMax: 8 } }), /compression: the part says/],
  ['the vocabulary size', (manifest: Manifest) => ({ ...manifest, vocabSize: manifest.vocabSize + 1 }), /vocabSize: the part says/],
  ['the temperature', (manifest: Manifest) => ({ ...manifest, temperature: 2 }), /temperature: the part says/],
  ['a part document count', (manifest: Manifest) => ({ ...manifest, parts: manifest.parts.map((part, i) => (i === 1 ? { ...part, documentCount: part.documentCount + 1 } : part)) }), /documentCount: the part holds/],
])('verify compares the manifest with the parts: an edited %s fails', async (_, edit, message) => {
  const { dir, manifest } = await writtenDataset();
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(edit(manifest)));
  const report = await verifyDataset(dir);
  expect(report.ok).toBe(false);
  expect(report.parts.filter((part) => !part.ok).map((part) => part.code)).toContain('E_MANIFEST');
  expect(report.parts.find((part) => !part.ok)?.problem).toMatch(message);
});

test('the reader refuses parts whose header the manifest misstates', async () => {
  const { dir, manifest } = await writtenDataset();
  await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, tokenizer: { sha256: 'd'.repeat(64) } }));
  const reading = (async () => {
    for await (const _ of (await openDataset(dir, { expectTokenizerSha256: 'd'.repeat(64) })).documents());
  })();
  await expect(reading).rejects.toMatchObject({ code: 'E_MANIFEST' });
});

test('edited totals fail verification', async () => {
  const { dir, manifest } = await writtenDataset();
  await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, totals: { ...manifest.totals, documents: manifest.totals.documents * 2 } }));
  const report = await verifyDataset(dir);
  expect(report.ok).toBe(false);
  expect(report.parts.every((part) => part.ok)).toBe(true);
  expect(report.problems).toEqual([{ code: 'E_MANIFEST', problem: expect.stringContaining('totals.documents') }]);
});

test('a part file the manifest does not list is reported and fails verification', async () => {
  const { dir, manifest } = await writtenDataset();
  await copyFile(join(dir, manifest.parts[0].file), join(dir, 'part-00042.parquet'));
  const report = await verifyDataset(dir);
  expect(report.ok).toBe(false);
  expect(report.unlisted).toEqual(['part-00042.parquet']);
  expect(report.problems).toEqual([{ code: 'E_MANIFEST', problem: expect.stringContaining('part-00042.parquet is not listed') }]);
});

test('an incomplete dataset fails verification even when every stored part is intact', async () => {
  const dir = await freshDatasetPath();
  const writer = await openDatasetWriter(dir, testHeader, { rowsPerPart: 150 });
  for (const document of syntheticCorpus(20, 3)) await writer.append(document);
  const report = await verifyDataset(dir);
  expect(report.parts.length).toBeGreaterThan(0);
  expect(report.parts.every((part) => part.ok)).toBe(true);
  expect(report).toMatchObject({ ok: false, complete: false, problems: [{ code: 'E_INCOMPLETE', problem: expect.any(String) }] });
});

test('deleting a damaged part and resuming relabels it and the parts after it; the result equals an undamaged run', async () => {
  const { dir, manifest } = await writtenDataset();
  expect(manifest.parts.length).toBeGreaterThanOrEqual(4);
  const reference: LabelledDocument[] = [];
  for await (const document of (await openDataset(dir)).documents()) reference.push(document);
  const damaged = join(dir, manifest.parts[1].file);
  const bytes = await readFile(damaged);
  bytes[100] ^= 0x10;
  await writeFile(damaged, bytes);
  expect((await verifyDataset(dir)).parts[1]).toMatchObject({ ok: false, code: 'E_CHECKSUM' });

  await rm(damaged);
  const writer = await openDatasetWriter(dir, testHeader, { rowsPerPart: 150, resume: true });
  expect(writer.relabelled).toEqual(manifest.parts.slice(1).map((part) => part.file));
  expect(writer.resumeFrom).toBe(manifest.parts[0].documents[1] + 1);
  for (const document of syntheticCorpus(20, 3)) if (document.index >= writer.resumeFrom) await writer.append(document);
  const resumed = await writer.close();
  const layout = (parts: Manifest['parts']) => parts.map(({ file, documents, tokens, rows }) => ({ file, documents, tokens, rows }));
  expect(layout(resumed.parts)).toEqual(layout(manifest.parts));
  expect((await verifyDataset(dir)).ok).toBe(true);
  const read: LabelledDocument[] = [];
  for await (const document of (await openDataset(dir)).documents()) read.push(document);
  expect(read).toEqual(reference);
});
