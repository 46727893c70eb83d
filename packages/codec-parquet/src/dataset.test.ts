import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabelledDocument } from '@kd/compress';
import * as parquet from 'parquet-wasm';
import { describe, expect, test } from 'vitest';
import { expectSameDocument, freshDatasetPath, testHeader } from './expect-document.js';
import { datasetStats, openDataset, openDatasetWriter, quantizationSchemes, roundTripRows, verifyDataset } from './index.js';
import { seededRandom, syntheticDocument } from './synthetic.js';

function documents(count: number, seed = 1): LabelledDocument[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, index) =>
    syntheticDocument(index, random, { tokens: 5 + Math.floor(random() * 40), k: 8, vocabSize: 32_000, task: index % 3 === 0 ? undefined : 'text' }),
  );
}

async function readAll(dir: string, options = {}): Promise<LabelledDocument[]> {
  const reader = await openDataset(dir, options);
  const out: LabelledDocument[] = [];
  for await (const document of reader.documents()) out.push(document);
  return out;
}

describe.each(quantizationSchemes)('round trip with %s', (scheme) => {
  test('documents come back in order across parts: lossless where promised, within bounds elsewhere', async () => {
    const dir = await freshDatasetPath();
    const written = documents(30);
    const writer = await openDatasetWriter(dir, testHeader, { rowsPerPart: 200, quantization: scheme });
    expect(writer.resumeFrom).toBe(0);
    for (const document of written) await writer.append(document);
    const manifest = await writer.close();
    expect(manifest.complete).toBe(true);
    expect(manifest.quantization).toBe(scheme);
    expect(manifest.parts.length).toBeGreaterThan(2);
    expect(manifest.totals.documents).toBe(30);
    expect(manifest.totals.tokens).toBe(written.reduce((sum, document) => sum + document.tokenIds.length, 0));
    // Parts end at document boundaries and list their document range.
    expect(manifest.parts[0].documents[0]).toBe(0);
    for (let i = 1; i < manifest.parts.length; i++) expect(manifest.parts[i].documents[0]).toBe(manifest.parts[i - 1].documents[1] + 1);
    const files = (await readdir(dir)).sort();
    expect(files).toEqual(['manifest.json', ...manifest.parts.map((part) => part.file)]);

    const read = await readAll(dir, { expectTokenizerSha256: testHeader.tokenizer.sha256 });
    expect(read.length).toBe(written.length);
    read.forEach((document, i) => expectSameDocument(document, written[i], scheme));
  });
});

test('documents with fewer rows than tokens, no tokens, or gaps in corpus indices round trip', async () => {
  const dir = await freshDatasetPath();
  const random = seededRandom(5);
  const written = [
    syntheticDocument(2, random, { tokens: 10, rows: 9, k: 4, vocabSize: 32_000 }),
    { ...syntheticDocument(3, random, { tokens: 0, k: 4, vocabSize: 32_000 }), text: 'untokenized text survives' },
    syntheticDocument(7, random, { tokens: 6, rows: 0, k: 4, vocabSize: 32_000, task: 'code' }),
  ];
  const writer = await openDatasetWriter(dir, testHeader);
  for (const document of written) await writer.append(document);
  await writer.close();
  const read = await readAll(dir);
  read.forEach((document, i) => expectSameDocument(document, written[i], 'u8-log'));
});

test('forced unit hash collisions are recorded and resolved through the whole dataset', async () => {
  const dir = await freshDatasetPath();
  const written = documents(6, 9);
  const writer = await openDatasetWriter(dir, testHeader, { unitHash: { bits: 6, seed: 3 } });
  for (const document of written) await writer.append(document);
  const manifest = await writer.close();
  expect(manifest.unitHash.bits).toBe(6);
  expect(manifest.parts[0].unitCollisions).toBeGreaterThan(0);
  const read = await readAll(dir);
  read.forEach((document, i) => expectSameDocument(document, written[i], 'u8-log'));
});

test('a non-empty folder is refused without resume', async () => {
  const dir = await freshDatasetPath();
  const writer = await openDatasetWriter(dir, testHeader);
  await writer.close();
  await expect(openDatasetWriter(dir, testHeader)).rejects.toMatchObject({ code: 'E_EXISTS', message: expect.stringMatching(/resume/) });
});

test('resume refuses another teacher, tokenizer, spec or quantization, naming each difference', async () => {
  const dir = await freshDatasetPath();
  await (await openDatasetWriter(dir, testHeader)).close();
  const other = { ...testHeader, tokenizer: { sha256: 'c'.repeat(64) }, compression: { mode: 'fixed' as const, k: 16 } };
  await expect(openDatasetWriter(dir, other, { resume: true })).rejects.toMatchObject({
    code: 'E_HEADER_MISMATCH',
    message: expect.stringMatching(/tokenizer\.sha256.*compression/),
  });
  await expect(openDatasetWriter(dir, testHeader, { resume: true, quantization: 'u16-linear' })).rejects.toMatchObject({ code: 'E_HEADER_MISMATCH' });
});

test('documents must arrive in increasing corpus order', async () => {
  const dir = await freshDatasetPath();
  const [first, second] = documents(2);
  const writer = await openDatasetWriter(dir, testHeader);
  await writer.append(second);
  await expect(writer.append(first)).rejects.toMatchObject({ code: 'E_INPUT' });
  await writer.close();
  await expect(writer.append(first)).rejects.toMatchObject({ code: 'E_CLOSED' });
});

test('bad rows are refused before anything is buffered', async () => {
  const dir = await freshDatasetPath();
  const [document] = documents(1);
  const ascending = { ...document, rows: { ...document.rows, probs: document.rows.probs.slice().reverse() } };
  const writer = await openDatasetWriter(dir, testHeader);
  await expect(writer.append(ascending)).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/descending/) });
  await writer.append(document);
  await writer.close();
  const read = await readAll(dir);
  expect(read.length).toBe(1);
  expectSameDocument(read[0], document, 'u8-log');
});

test('the reader refuses another tokenizer, another format version, and an unfinished dataset', async () => {
  const dir = await freshDatasetPath();
  const writer = await openDatasetWriter(dir, testHeader, { rowsPerPart: 50 });
  for (const document of documents(5)) await writer.append(document);
  await expect(openDataset(dir)).rejects.toMatchObject({ code: 'E_INCOMPLETE' });
  expect((await readAll(dir, { allowIncomplete: true })).length).toBeGreaterThan(0);
  await writer.close();
  await expect(openDataset(dir, { expectTokenizerSha256: 'd'.repeat(64) })).rejects.toMatchObject({
    code: 'E_TOKENIZER_MISMATCH',
    message: expect.stringContaining('b'.repeat(64)),
  });
  const manifestPath = join(dir, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
  await writeFile(manifestPath, JSON.stringify({ ...manifest, formatVersion: 3 }));
  await expect(openDataset(dir)).rejects.toMatchObject({ code: 'E_FORMAT_VERSION', message: expect.stringMatching(/newer/) });
  await writeFile(manifestPath, JSON.stringify({ ...manifest, parts: 'none' }));
  await expect(openDataset(dir)).rejects.toMatchObject({ code: 'E_MANIFEST' });
});

test('stats and verification describe the dataset', async () => {
  const dir = await freshDatasetPath();
  const written = documents(12);
  const writer = await openDatasetWriter(dir, testHeader, { rowsPerPart: 100 });
  for (const document of written) await writer.append(document);
  const manifest = await writer.close();
  const stats = await datasetStats(dir);
  const tokens = written.reduce((sum, document) => sum + document.tokenIds.length, 0);
  const meanTail = written.reduce((sum, document) => sum + document.rows.tailMass.reduce((a, b) => a + b, 0), 0) / tokens;
  expect(stats).toMatchObject({ documents: 12, tokens, rows: tokens, parts: manifest.parts.length, bytes: manifest.totals.bytes, meanKept: 8 });
  expect(stats.bytesPerToken).toBeCloseTo(manifest.totals.bytes / tokens, 9);
  expect(stats.meanTailMass).toBeCloseTo(meanTail, 4);
  const report = await verifyDataset(dir);
  expect(report).toMatchObject({ ok: true, complete: true });
  expect(report.parts.map((part) => part.file)).toEqual(manifest.parts.map((part) => part.file));
});

test('parts written before ids were stored uncompressed (ZSTD on every column, plain lengths) still read the same', async () => {
  const dir = await freshDatasetPath();
  const written = documents(10, 4);
  const writer = await openDatasetWriter(dir, testHeader, { rowsPerPart: 120 });
  for (const document of written) await writer.append(document);
  const manifest = await writer.close();
  for (const part of manifest.parts) {
    const path = join(dir, part.file);
    const current = await readFile(path);
    const schema = parquet.readSchema(current);
    const metadata = schema.metadata();
    schema.free();
    let builder = new parquet.WriterPropertiesBuilder().setCompression(parquet.Compression.ZSTD).setMaxRowGroupSize(part.tokens).setKeyValueMetadata(metadata);
    for (const name of ['probs', 'ids']) builder = builder.setColumnDictionaryEnabled(name, false);
    const earlier = parquet.writeParquet(parquet.Table.fromIPCStream(parquet.readParquet(current).intoIPCStream()), builder.build());
    expect(Buffer.from(earlier).equals(current)).toBe(false);
    await writeFile(path, earlier);
    Object.assign(part, { bytes: earlier.length, sha256: createHash('sha256').update(earlier).digest('hex') });
  }
  manifest.totals.bytes = manifest.parts.reduce((sum, part) => sum + part.bytes, 0);
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
  expect((await verifyDataset(dir)).ok).toBe(true);
  const read = await readAll(dir);
  expect(read.length).toBe(written.length);
  read.forEach((document, i) => expectSameDocument(document, written[i], 'u8-log'));
});

test('part(i) decodes one part on its own, in any order, with the documents documents() yields', async () => {
  const dir = await freshDatasetPath();
  const writer = await openDatasetWriter(dir, testHeader, { rowsPerPart: 150 });
  for (const document of documents(24, 7)) await writer.append(document);
  await writer.close();
  const reader = await openDataset(dir);
  const all = await readAll(dir);
  const parts = reader.manifest.parts;
  expect(parts.length).toBeGreaterThan(2);
  const byPart = new Map<number, LabelledDocument[]>();
  for (const index of [...parts.keys()].reverse()) byPart.set(index, await reader.part(index));
  const joined = [...parts.keys()].flatMap((index) => byPart.get(index)!);
  expect(joined.map((document) => document.index)).toEqual(all.map((document) => document.index));
  joined.forEach((document, index) => expect(document).toEqual(all[index]));
  for (const [index, part] of parts.entries()) expect(byPart.get(index)!.map((document) => document.index)).toEqual(Array.from({ length: part.documentCount }, (_, offset) => part.documents[0] + offset));
  await expect(reader.part(parts.length)).rejects.toMatchObject({ code: 'E_INPUT' });
});

test('roundTripRows gives the rows a written dataset reads back, bit for bit', async () => {
  for (const scheme of quantizationSchemes) {
    const dir = await freshDatasetPath();
    const written = documents(6, 11);
    const writer = await openDatasetWriter(dir, testHeader, { quantization: scheme });
    for (const document of written) await writer.append(document);
    await writer.close();
    const read = await readAll(dir);
    read.forEach((document, index) => expect(roundTripRows(written[index].rows, scheme)).toEqual(document.rows));
  }
});
