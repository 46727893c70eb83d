// Sharded labelling end to end: four `kd label --shard I/4` processes side by side, then
// `kd merge`, hold exactly the rows of one unsharded run; a shard killed mid-way and run again
// alone, a shard run twice, a missing or duplicated shard and shards of other settings.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataset, verifyDataset } from '@kd/codec-parquet';
import { mergeShards } from '@kd/pipeline';
import type { LabelledDocument } from '@kd/compress';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, kd, repoRoot, startKdKilledAfter } from './test-fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'kd-e2e-shard-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const teacher = join(repoRoot, 'examples/teacher');
const corpus = join(repoRoot, 'examples/corpus/dev.jsonl');
// One window per batch: a document's rows do not depend on which documents share its batch.
const labelArgs = (out: string, extra: string[] = [], limit = 32) => [
  'label', '--teacher', teacher, '--corpus', corpus, '--limit', String(limit), '--mode', 'adaptive', '--p', '0.9', '--k-max', '16',
  '--batch-size', '1', '--rows-per-part', '120', '--threads', '1', '--out', out, ...extra,
];

/** A document as plain values, for exact comparison. */
function plain(document: LabelledDocument) {
  const { rows } = document;
  return {
    index: document.index,
    id: document.id,
    task: document.task,
    text: document.text,
    tokenIds: Array.from(document.tokenIds),
    offsets: Array.from(document.offsets),
    rows: { length: rows.length, offsets: Array.from(rows.offsets), ids: Array.from(rows.ids), probs: Array.from(rows.probs), tailMass: Array.from(rows.tailMass) },
  };
}

async function documentsOf(dir: string, options: { allowIncomplete?: boolean } = {}) {
  const documents = [];
  for await (const document of (await openDataset(dir, options)).documents()) documents.push(plain(document));
  return documents;
}

const byIndex = <T extends { index: number }>(documents: T[]) => [...documents].sort((a, b) => a.index - b.index);
const manifestText = (dir: string) => readFileSync(join(dir, 'manifest.json'), 'utf8');

describe('kd label --shard and kd merge', () => {
  const reference = join(work, 'reference');
  const root = join(work, 'sharded');
  const mixed = (name: string) => join(work, `mixed-${name}`);
  const otherCorpus = join(work, 'other.jsonl');
  let referenceDocuments: ReturnType<typeof plain>[];

  beforeAll(async () => {
    // A corpus with the same file name and one record changed.
    const lines = readFileSync(corpus, 'utf8').split('\n');
    lines[2] = JSON.stringify({ ...JSON.parse(lines[2]!), id: 'changed/1' });
    writeFileSync(otherCorpus, lines.join('\n'));
    const runs = await Promise.all([
      kd(labelArgs(reference)),
      ...[0, 1, 2].map((index) => kd(labelArgs(root, ['--shard', `${index}/4`]))),
      // The fourth worker takes its index from the batch system, as an Indexed Job's pod does.
      kd(labelArgs(root, ['--shard', '/4']), { JOB_COMPLETION_INDEX: '3' }),
      // Shards that do not belong together: each second shard differs from the first in one way.
      kd(labelArgs(mixed('compression'), ['--shard', '0/2'], 6)),
      kd(labelArgs(mixed('compression'), ['--shard', '1/2', '--p', '0.8'], 6)),
      kd(labelArgs(mixed('window'), ['--shard', '1/2', '--window', '16'], 6)),
      kd([...labelArgs(mixed('corpus'), ['--shard', '1/2'], 6), '--corpus', otherCorpus]),
    ]);
    for (const run of runs) expect(run.stderr + run.stdout).not.toMatch(/kd: E_/);
    for (const run of runs) expect(run.code).toBe(0);
    for (const name of ['window', 'corpus']) cpSync(join(mixed('compression'), 'shard-0000-of-0002'), join(mixed(name), 'shard-0000-of-0002'), { recursive: true });
    referenceDocuments = await documentsOf(reference);
    expect(referenceDocuments).toHaveLength(32);
  }, 900_000);

  it('merges four shards into exactly the rows of one unsharded run; kd inspect and kd align read it as one', { timeout: 300_000 }, async () => {
    const merged = await kd(['merge', root, '--json']);
    expect(merged.code, merged.stderr).toBe(0);
    const summary = JSON.parse(merged.stdout);
    expect(summary).toMatchObject({ shards: 4, documents: 32, tokens: JSON.parse(manifestText(reference)).totals.tokens });
    // Every shard holds some documents, and together they hold each once.
    const perShard = [];
    for (let index = 0; index < 4; index++) perShard.push(await documentsOf(join(root, `shard-000${index}-of-0004`)));
    for (const documents of perShard) expect(documents.length).toBeGreaterThan(0);
    const mergedDocuments = await documentsOf(root);
    expect(mergedDocuments.map((document) => document.index)).toEqual(perShard.flat().map((document) => document.index));
    expect(byIndex(mergedDocuments)).toEqual(referenceDocuments);
    expect((await verifyDataset(root)).ok).toBe(true);
    const [inspect, align] = await Promise.all([
      kd(['inspect', root, '--verify', '--json']),
      kd(['align', '--teacher-tokenizer', join(teacher, 'tokenizer.json'), '--student-tokenizer', join(repoRoot, 'examples/student-tokenizer/tokenizer.json'), '--dataset', root, '--no-cache', '--json']),
    ]);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(JSON.parse(inspect.stdout)).toMatchObject({ documents: 32, parts: JSON.parse(manifestText(root)).parts.length });
    expect(align.code, align.stderr).toBe(0);
    expect(JSON.parse(align.stdout).dataset.documents).toBe(32);
  });

  it('a shard run twice changes nothing; a merged root is not a labelling folder', { timeout: 300_000 }, async () => {
    const before = JSON.parse(manifestText(join(root, 'shard-0001-of-0004')));
    const [again, unsharded] = await Promise.all([kd(labelArgs(root, ['--shard', '1/4'])), kd(labelArgs(root))]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/resuming .*shard-0001-of-0004: (\d+) of \1 documents already stored/);
    expect(JSON.parse(manifestText(join(root, 'shard-0001-of-0004')))).toEqual(before);
    expect((await verifyDataset(root)).ok).toBe(true);
    expect(unsharded.code).not.toBe(0);
    expect(unsharded.stderr).toMatch(/E_RESUME_MISMATCH: .* is a merged dataset of 4 shards/);
  });

  it('a shard killed mid-way and run again alone ends with the same rows; until then merge names the missing shards', { timeout: 600_000 }, async () => {
    const partial = join(work, 'partial');
    const shardFolder = join(partial, 'shard-0002-of-0004');
    const complete = await documentsOf(join(root, 'shard-0002-of-0004'));
    expect(complete.length).toBeGreaterThanOrEqual(4);
    // Killed right after its sixth document went to the writer (a deterministic point, past the first part); Slurm gives the index.
    const killed = await collect(startKdKilledAfter(6, labelArgs(partial, ['--shard', '/4']), { SLURM_ARRAY_TASK_ID: '2' }));
    expect(killed.signal).toBe('SIGKILL');
    const atKill = JSON.parse(manifestText(shardFolder));
    expect(atKill.complete).toBe(false);
    expect(atKill.parts.length).toBeGreaterThan(0);
    expect(atKill.totals.documents).toBeLessThan(complete.length);
    await expect(mergeShards(partial)).rejects.toMatchObject({
      code: 'E_SHARD_MISSING',
      message: expect.stringContaining('lacks shards 0 (shard-0000-of-0004), 1 (shard-0001-of-0004), 3 (shard-0003-of-0004) of 4'),
    });
    for (const index of [0, 1, 3]) cpSync(join(root, `shard-000${index}-of-0004`), join(partial, `shard-000${index}-of-0004`), { recursive: true });
    await expect(mergeShards(partial)).rejects.toMatchObject({ code: 'E_INCOMPLETE', message: expect.stringMatching(/^shard-0002-of-0004 is incomplete/) });
    const rerun = await kd(labelArgs(partial, ['--shard', '2/4']));
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout).toMatch(/resuming/);
    expect(await documentsOf(shardFolder)).toEqual(complete);
    await mergeShards(partial);
    expect(byIndex(await documentsOf(partial))).toEqual(referenceDocuments);
  });

  it('names a duplicated shard and a damaged part', async () => {
    const copy = join(work, 'duplicated');
    cpSync(root, copy, { recursive: true });
    rmSync(join(copy, 'shard-0002-of-0004'), { recursive: true });
    cpSync(join(copy, 'shard-0001-of-0004'), join(copy, 'shard-0002-of-0004'), { recursive: true });
    await expect(mergeShards(copy)).rejects.toMatchObject({
      code: 'E_SHARD_DUPLICATE',
      message: expect.stringContaining('shard 1 of 4 is duplicated: shard-0001-of-0004 and shard-0002-of-0004 both hold it'),
    });
    rmSync(join(copy, 'shard-0002-of-0004'), { recursive: true });
    cpSync(join(root, 'shard-0002-of-0004'), join(copy, 'shard-0002-of-0004'), { recursive: true });
    const manifest = JSON.parse(manifestText(join(copy, 'shard-0003-of-0004')));
    const damaged = join(copy, 'shard-0003-of-0004', manifest.parts[0].file);
    const bytes = readFileSync(damaged);
    bytes[100]! ^= 0xff;
    writeFileSync(damaged, bytes);
    await expect(mergeShards(copy)).rejects.toMatchObject({ code: 'E_CHECKSUM', message: expect.stringMatching(/^shard-0003-of-0004: part-00000.parquet: sha256 mismatch/) });
    // The manifest of the earlier merge (copied with the root) fails verification now, and was not rewritten.
    expect(JSON.parse(manifestText(copy))).toEqual(JSON.parse(manifestText(root)));
    expect((await verifyDataset(copy)).ok).toBe(false);
  });

  it('refuses shards made with other compression, other settings or from another corpus', async () => {
    await expect(mergeShards(mixed('compression'))).rejects.toMatchObject({
      code: 'E_HEADER_MISMATCH',
      message: expect.stringMatching(/^shard-0001-of-0002 was labelled differently from shard-0000-of-0002 \(compression: shard-0000-of-0002 has .*"p":0.9.* this one has .*"p":0.8/),
    });
    await expect(mergeShards(mixed('window'))).rejects.toMatchObject({
      code: 'E_SHARD_MISMATCH',
      message: expect.stringContaining('shard-0001-of-0002 was labelled from another corpus or with other settings than shard-0000-of-0002: `window` none there, 16 here'),
    });
    await expect(mergeShards(mixed('corpus'))).rejects.toMatchObject({
      code: 'E_SHARD_MISMATCH',
      message: expect.stringContaining('another corpus selection (6 documents there, 6 here, content differs)'),
    });
    for (const name of ['compression', 'window', 'corpus']) expect(() => manifestText(mixed(name))).toThrow(/ENOENT/);
  });
});
