import { spawn } from 'node:child_process';
import { copyFile, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LabelledDocument } from '@kd/compress';
import { expect, test } from 'vitest';
import { expectSameDocument, freshDatasetPath } from './expect-document.js';
import { openDataset, openDatasetWriter } from './index.js';
import { syntheticCorpus, testHeader } from './synthetic.js';

const child = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const corpusSize = 40;
const rowsPerPart = 120;
const corpus = syntheticCorpus(corpusSize, 11);

/**
 * Runs a labelling process that dies by SIGKILL: by itself after `killAfter` documents, or
 * (killAfter = -1) by this process as soon as it reports document `parentKillsAt`.
 */
function runKilled(dir: string, killAfter: number, parentKillsAt = -1): Promise<NodeJS.Signals | null> {
  return new Promise((resolve, reject) => {
    const process = spawn('node', ['--import', 'tsx', child, dir, String(corpusSize), String(rowsPerPart), String(killAfter)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let errors = '';
    process.stderr.on('data', (chunk) => (errors += chunk));
    process.stdout.on('data', (chunk: Buffer) => {
      if (parentKillsAt >= 0 && chunk.toString().includes(`appended ${parentKillsAt}\n`)) process.kill('SIGKILL');
    });
    process.on('error', reject);
    process.on('exit', (code, signal) => (signal ? resolve(signal) : reject(new Error(`child exited with ${code} instead of being killed: ${errors}`))));
  });
}

/** Resumes in this process, appending what the killed run did not store, and reads everything back. */
async function resumeAndRead(dir: string): Promise<{ resumeFrom: number; documents: LabelledDocument[] }> {
  const writer = await openDatasetWriter(dir, testHeader, { rowsPerPart, resume: true });
  for (const document of corpus) if (document.index >= writer.resumeFrom) await writer.append(document);
  await writer.close();
  const documents: LabelledDocument[] = [];
  for await (const document of (await openDataset(dir)).documents()) documents.push(document);
  return { resumeFrom: writer.resumeFrom, documents };
}

let uninterrupted: LabelledDocument[] | undefined;
async function referenceDocuments(): Promise<LabelledDocument[]> {
  if (!uninterrupted) uninterrupted = (await resumeAndRead(await freshDatasetPath())).documents;
  return uninterrupted;
}

async function expectSameAsUninterrupted(documents: LabelledDocument[]): Promise<void> {
  const reference = await referenceDocuments();
  expect(documents.map((document) => document.index)).toEqual(corpus.map((document) => document.index));
  documents.forEach((document, i) => {
    expectSameDocument(document, corpus[i], 'u8-log');
    expect(document.rows.probs).toEqual(reference[i].rows.probs);
  });
}

test.each([
  ['before the first part is written', 3],
  ['in the middle of the run', 13],
  ['near the end, with many parts stored', 38],
])('a run killed %s resumes without losing or duplicating documents', async (_, killAfter) => {
  const dir = await freshDatasetPath();
  expect(await runKilled(dir, killAfter)).toBe('SIGKILL');
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
  expect(manifest.complete).toBe(false);
  const { resumeFrom, documents } = await resumeAndRead(dir);
  expect(resumeFrom).toBeLessThanOrEqual(killAfter);
  expect(resumeFrom).toBe(manifest.parts.length === 0 ? 0 : manifest.parts.at(-1).documents[1] + 1);
  await expectSameAsUninterrupted(documents);
});

test('a run killed from outside while writing, then killed again, still resumes exactly', async () => {
  const dir = await freshDatasetPath();
  expect(await runKilled(dir, -1, 17)).toBe('SIGKILL');
  expect(await runKilled(dir, -1, 29)).toBe('SIGKILL');
  const { documents } = await resumeAndRead(dir);
  await expectSameAsUninterrupted(documents);
});

test('a part renamed into place but missing from the manifest is verified and adopted; temporary files are removed', async () => {
  const dir = await freshDatasetPath();
  const writer = await openDatasetWriter(dir, testHeader, { rowsPerPart });
  let savedManifest = '';
  for (const document of corpus) {
    await writer.append(document);
    const parts = (await readdir(dir)).filter((name) => name.endsWith('.parquet'));
    if (parts.length === 2 && !savedManifest) savedManifest = await readFile(join(dir, 'manifest.json'), 'utf8');
    if (parts.length === 3) break;
  }
  // The state a kill between a part's rename and the manifest update leaves behind, plus stray temporaries.
  await writeFile(join(dir, 'manifest.json'), savedManifest);
  await copyFile(join(dir, 'part-00002.parquet'), join(dir, 'part-00003.parquet.tmp'));
  await writeFile(join(dir, 'manifest.json.tmp'), '{"half": ');
  const resumed = await openDatasetWriter(dir, testHeader, { rowsPerPart, resume: true });
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
  expect(manifest.parts.map((part: { file: string }) => part.file)).toEqual(['part-00000.parquet', 'part-00001.parquet', 'part-00002.parquet']);
  expect(resumed.resumeFrom).toBe(manifest.parts[2].documents[1] + 1);
  expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  for (const document of corpus) if (document.index >= resumed.resumeFrom) await resumed.append(document);
  await resumed.close();
  const documents: LabelledDocument[] = [];
  for await (const document of (await openDataset(dir)).documents()) documents.push(document);
  await expectSameAsUninterrupted(documents);
});

test('an unlisted part that is not a valid next part stops resume with advice', async () => {
  const dir = await freshDatasetPath();
  const writer = await openDatasetWriter(dir, testHeader, { rowsPerPart });
  for (const document of corpus.slice(0, 5)) await writer.append(document);
  await writeFile(join(dir, 'part-00000.parquet'), 'not parquet');
  await expect(openDatasetWriter(dir, testHeader, { rowsPerPart, resume: true })).rejects.toMatchObject({ code: 'E_MANIFEST', message: expect.stringMatching(/not a readable part/) });
  await rm(join(dir, 'part-00000.parquet'));
  await writeFile(join(dir, 'part-00004.parquet'), 'not parquet');
  await expect(openDatasetWriter(dir, testHeader, { rowsPerPart, resume: true })).rejects.toMatchObject({ code: 'E_MANIFEST', message: expect.stringMatching(/move it away/) });
});
