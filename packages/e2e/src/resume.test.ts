// A labelling run killed with SIGKILL at several points and run again on the same folder ends
// with the same documents as an uninterrupted run: none lost, none duplicated.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataset } from '@kd/codec-parquet';
import { rowAt, type LabelledDocument } from '@kd/compress';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, devCorpus, kd, startKd, teacherDir } from './harness.js';

const work = mkdtempSync(join(tmpdir(), 'kd-e2e-resume-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const labelArgs = (out: string) => [
  'label', '--teacher', teacherDir, '--data', devCorpus, '--tasks', 'translate', '--limit', '96',
  '--mode', 'adaptive', '--p', '0.9', '--k-max', '16', '--batch-size', '2', '--rows-per-part', '150', '--out', out,
];

async function documentsOf(dir: string): Promise<LabelledDocument[]> {
  const documents: LabelledDocument[] = [];
  for await (const document of (await openDataset(dir)).documents()) documents.push(document);
  return documents;
}

const completeParts = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.parquet')).length : 0);

/** Starts a run and SIGKILLs it once `ready()` holds (polled), or lets it finish if it never does. */
async function killWhen(out: string, ready: () => boolean): Promise<boolean> {
  const child = startKd(labelArgs(out));
  const done = collect(child);
  let killed = false;
  const timer = setInterval(() => {
    if (!killed && ready()) {
      killed = true;
      child.kill('SIGKILL');
    }
  }, 5);
  const result = await done;
  clearInterval(timer);
  return killed && result.signal === 'SIGKILL';
}

/** Same rows up to float noise from different batch padding: same ids where the mass is visible. */
function expectSameRows(a: LabelledDocument, b: LabelledDocument) {
  expect(a.rows.length).toBe(b.rows.length);
  for (let position = 0; position < a.rows.length; position++) {
    const rowA = rowAt(a.rows, position);
    const rowB = rowAt(b.rows, position);
    const probsB = new Map<number, number>();
    rowB.ids.forEach((id, j) => probsB.set(id, rowB.probs[j]!));
    rowA.ids.forEach((id, j) => {
      const other = probsB.get(id);
      if (other === undefined) expect(rowA.probs[j]).toBeLessThan(0.02);
      else expect(Math.abs(other - rowA.probs[j]!)).toBeLessThan(0.01);
    });
  }
}

describe('kd label resumes after SIGKILL', () => {
  let reference: LabelledDocument[];
  beforeAll(async () => {
    const out = join(work, 'reference');
    const result = await kd(labelArgs(out));
    expect(result.code).toBe(0);
    reference = await documentsOf(out);
    expect(reference).toHaveLength(96);
  });

  const killPoints: [string, (out: string) => () => boolean][] = [
    ['after the first part', (out) => () => completeParts(out) >= 1],
    ['after several parts', (out) => () => completeParts(out) >= 5],
    ['between part boundaries, with documents labelled but not yet stored', (out) => {
      let seenAt = 0;
      return () => {
        if (completeParts(out) < 2) return false;
        seenAt ||= performance.now();
        return performance.now() - seenAt > 40;
      };
    }],
  ];

  for (const [name, condition] of killPoints) {
    it(`killed ${name}, run again: same documents, none lost, none duplicated`, async () => {
      const out = join(work, name.replace(/[^a-z]+/g, '-'));
      const killed = await killWhen(out, condition(out));
      expect(killed).toBe(true);
      const partsAtKill = completeParts(out);
      const rerun = await kd(labelArgs(out));
      expect(rerun.code).toBe(0);
      expect(rerun.stdout).toMatch(/resuming/);
      expect(completeParts(out)).toBeGreaterThanOrEqual(partsAtKill);
      const resumed = await documentsOf(out);
      expect(resumed.map((document) => document.index)).toEqual(reference.map((document) => document.index));
      for (let i = 0; i < reference.length; i++) {
        expect(resumed[i]!.id).toBe(reference[i]!.id);
        expect(resumed[i]!.text).toBe(reference[i]!.text);
        expect(Array.from(resumed[i]!.tokenIds)).toEqual(Array.from(reference[i]!.tokenIds));
        expectSameRows(resumed[i]!, reference[i]!);
      }
    });
  }
});
