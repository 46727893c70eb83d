// A labelling run killed with SIGKILL at several points and run again on the same folder ends
// with the same documents as an uninterrupted run: none lost, none duplicated.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataset } from '@kd/codec-parquet';
import type { LabelledDocument } from '@kd/compress';
import { expectSameRows } from '@kd/compress/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, devCorpus, kd, startKdKilledAfter, teacherDir } from './test-fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'kd-e2e-resume-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const labelArgs = (out: string) => [
  'label', '--teacher', teacherDir, '--corpus', devCorpus, '--tasks', 'translate', '--limit', '96',
  '--mode', 'adaptive', '--p', '0.9', '--k-max', '16', '--batch-size', '2', '--rows-per-part', '150', '--out', out,
];

async function documentsOf(dir: string): Promise<LabelledDocument[]> {
  const documents: LabelledDocument[] = [];
  for await (const document of (await openDataset(dir)).documents()) documents.push(document);
  return documents;
}

const completeParts = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.parquet')).length : 0);

/** Documents the manifest lists as stored. */
const storedDocuments = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).totals.documents as number;

describe('kd label resumes after SIGKILL', () => {
  let reference: LabelledDocument[];
  let referenceParts: { documents: [number, number] }[];
  beforeAll(async () => {
    const out = join(work, 'reference');
    const result = await kd(labelArgs(out));
    expect(result.code).toBe(0);
    reference = await documentsOf(out);
    expect(reference).toHaveLength(96);
    referenceParts = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).parts;
    // The kill points below need parts of several documents each.
    expect(referenceParts.length).toBeGreaterThan(5);
    expect(lastOf(2) - firstOf(2)).toBeGreaterThanOrEqual(3);
    expect(lastOf(0)).toBeGreaterThanOrEqual(2);
  }, 600_000);

  // The run kills itself right after handing its N-th document to the dataset writer: the same
  // point on any machine. N is placed against the part boundaries of the uninterrupted run
  // (the same documents and rowsPerPart give the same parts).
  // Parts list corpus indices; the kill counts documents (the corpus is filtered by task).
  const through = (index: number) => reference.findIndex((document) => document.index === index) + 1;
  const firstOf = (part: number) => through(referenceParts[part]!.documents[0]) - 1;
  const lastOf = (part: number) => through(referenceParts[part]!.documents[1]);
  const killPoints: [string, () => number, (stored: number, partsAtKill: number) => void][] = [
    ['before the first part is complete', () => lastOf(0) - 1, (stored, partsAtKill) => expect([stored, partsAtKill]).toEqual([0, 0])],
    ['right after several parts', () => lastOf(4), (stored, partsAtKill) => expect([stored, partsAtKill]).toEqual([lastOf(4), 5])],
    ['between part boundaries, with documents labelled but not yet stored', () => firstOf(2) + 2, (stored, partsAtKill) => expect([stored, partsAtKill]).toEqual([firstOf(2), 2])],
  ];

  for (const [name, killAfter, expectState] of killPoints) {
    it(`killed ${name}, run again: same documents, none lost, none duplicated`, { timeout: 600_000 }, async () => {
      const out = join(work, name.replace(/[^a-z]+/g, '-'));
      const killed = await collect(startKdKilledAfter(killAfter(), labelArgs(out)));
      expect(killed.signal).toBe('SIGKILL');
      const partsAtKill = completeParts(out);
      const storedAtKill = storedDocuments(out);
      expectState(storedAtKill, partsAtKill);
      const rerun = await kd(labelArgs(out));
      expect(rerun.code).toBe(0);
      if (storedAtKill > 0) expect(rerun.stdout).toMatch(/resuming/);
      expect(completeParts(out)).toBeGreaterThanOrEqual(partsAtKill);
      const resumed = await documentsOf(out);
      expect(resumed.map((document) => document.index)).toEqual(reference.map((document) => document.index));
      for (let i = 0; i < reference.length; i++) {
        expect(resumed[i]!.id).toBe(reference[i]!.id);
        expect(resumed[i]!.text).toBe(reference[i]!.text);
        expect(Array.from(resumed[i]!.tokenIds)).toEqual(Array.from(reference[i]!.tokenIds));
        // Batches are padded differently after a resume: float noise, then u8-log codes one step apart.
        expectSameRows(resumed[i]!.rows, reference[i]!.rows, { probability: (p) => 0.06 * p + 2 ** -19, tailMass: 0.01, boundaryEntry: true });
      }
    });
  }
});
