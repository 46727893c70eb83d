// `kd label` and `kd inspect` end to end: the real teacher, real Parquet parts that DuckDB
// reads, checksums that catch a flipped byte, and clear errors for bad flags.
import { copyFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { openDataset } from '@kd/codec-parquet';
import { readCorpus } from '@kd/text';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devCorpus, kd, teacherDir } from './test-fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'kd-e2e-label-'));
const out = join(work, 'labels');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const labelArgs = (folder: string) => [
  'label', '--teacher', teacherDir, '--corpus', devCorpus, '--tasks', 'translate', '--limit', '16',
  '--mode', 'fixed', '--k', '8', '--rows-per-part', '200', '--out', folder, '--json',
];

/** A copy of the labelled dataset to damage. */
function copyOfLabels(name: string): string {
  const copy = join(work, name);
  rmSync(copy, { recursive: true, force: true });
  cpSync(out, copy, { recursive: true });
  return copy;
}

describe('kd label → kd inspect', () => {
  let summary: Record<string, number>;
  beforeAll(async () => {
    const result = await kd(labelArgs(out));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    summary = JSON.parse(result.stdout.trim().split('\n').at(-1)!);
  });

  it('labels every document and reports the dataset', () => {
    expect(summary.documents).toBe(16);
    expect(summary.tokens).toBeGreaterThan(16 * 10);
    expect(summary.meanKept).toBe(8);
    expect(summary.parts).toBeGreaterThan(1);
  });

  it('inspect --json gives the stats and decodes a document back to its text', async () => {
    const result = await kd(['inspect', out, '--json', '--tokenizer', join(teacherDir, 'tokenizer.json')]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    for (const key of ['tokens', 'bytes', 'bytesPerToken', 'meanKept', 'meanTailMass']) expect(typeof report[key]).toBe('number');
    expect(report.tokens).toBe(summary.tokens);
    expect(report.bytesPerToken).toBeCloseTo(report.bytes / report.tokens, 6);
    expect(report.meanTailMass).toBeGreaterThan(0);
    expect(report.meanTailMass).toBeLessThan(1);
    const first = (await readCorpus(devCorpus, { tasks: ['translate'], limit: 1 }).next()).value!;
    expect(report.sample.text).toBe(first.text);
    expect(report.sample.positions[1].token).toBe('▁Trans');
    expect(report.sample.positions[0].top).toHaveLength(5);
  });

  it('inspect prints a human summary with a decoded sample', async () => {
    const result = await kd(['inspect', out]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/bytes\/token/);
    expect(result.stdout).toMatch(/mean kept\s+8\.00/);
    expect(result.stdout).toMatch(/Translate English to German/);
  });

  it('DuckDB reads a part and sees one row per token', async () => {
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    const part = manifest.parts[0];
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const rows = await connection.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet('${join(out, part.file)}')`);
    expect(rows.getRowObjects()[0]!.n).toBe(part.rows);
    connection.closeSync();
  });

  it('inspect --verify passes, then names the part whose byte was flipped', async () => {
    expect((await kd(['inspect', out, '--verify'])).code).toBe(0);
    const copy = copyOfLabels('corrupt');
    const partFile = readdirSync(copy).filter((name) => name.endsWith('.parquet')).sort()[1]!;
    const bytes = readFileSync(join(copy, partFile));
    bytes[Math.floor(bytes.length / 2)] ^= 0x40;
    writeFileSync(join(copy, partFile), bytes);
    const result = await kd(['inspect', copy, '--verify']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(partFile);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^kd: E_CHECKSUM: /);
  });

  it('the advice after a damaged part works: delete it, label again, and the dataset verifies with the same documents', async () => {
    const copy = copyOfLabels('repaired');
    const partFile = readdirSync(copy).filter((name) => name.endsWith('.parquet')).sort()[1]!;
    const bytes = readFileSync(join(copy, partFile));
    bytes[Math.floor(bytes.length / 2)] ^= 0x40;
    writeFileSync(join(copy, partFile), bytes);
    const failed = await kd(['inspect', copy, '--verify']);
    expect(failed.stderr).toMatch(/delete the damaged part file\(s\) and run the same kd label command/);
    rmSync(join(copy, partFile));
    const relabel = await kd(labelArgs(copy));
    expect(relabel.code).toBe(0);
    // With --json the note goes to stderr: stdout holds only the summary.
    expect(relabel.stderr).toContain(`relabelling ${partFile}`);
    expect((await kd(['inspect', copy, '--verify'])).code).toBe(0);
    const texts = async (dir: string) => {
      const found: string[] = [];
      for await (const document of (await openDataset(dir)).documents()) found.push(`${document.index} ${document.text} ${document.tokenIds.join(',')}`);
      return found;
    };
    expect(await texts(copy)).toEqual(await texts(out));
  });

  it('inspect --verify fails on an edited manifest, an unlisted part and an incomplete dataset', async () => {
    const edited = copyOfLabels('edited');
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    writeFileSync(join(edited, 'manifest.json'), JSON.stringify({ ...manifest, teacher: { ...manifest.teacher, sha256: '0'.repeat(64) } }));
    const editedResult = await kd(['inspect', edited, '--verify']);
    expect(editedResult.code).not.toBe(0);
    expect(editedResult.stderr).toMatch(/^kd: E_MANIFEST: .*teacher: the part says/);

    const stray = copyOfLabels('stray');
    copyFileSync(join(stray, manifest.parts[0].file), join(stray, 'part-00099.parquet'));
    const strayResult = await kd(['inspect', stray, '--verify', '--json']);
    expect(strayResult.code).not.toBe(0);
    expect(JSON.parse(strayResult.stdout).verify.unlisted).toEqual(['part-00099.parquet']);

    const incomplete = copyOfLabels('incomplete');
    writeFileSync(join(incomplete, 'manifest.json'), JSON.stringify({ ...manifest, complete: false }));
    const incompleteResult = await kd(['inspect', incomplete, '--verify']);
    expect(incompleteResult.code).not.toBe(0);
    expect(incompleteResult.stderr).toMatch(/^kd: E_INCOMPLETE: /);
  });
});

describe('kd label refuses bad input with one clear line', () => {
  it('names the flag of a bad number', async () => {
    const result = await kd(['label', '--corpus', devCorpus, '--out', join(work, 'x'), '--mode', 'fixed', '--k', '0']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/--k/);
  });

  it('says which corpus path is missing', async () => {
    const result = await kd(['label', '--teacher', teacherDir, '--corpus', join(work, 'nope.jsonl'), '--out', join(work, 'y')]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/nope\.jsonl/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('rejects p outside (0, 1]', async () => {
    const result = await kd(['label', '--teacher', teacherDir, '--corpus', devCorpus, '--out', join(work, 'z'), '--p', '1.5']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^kd: E_USAGE: --p: /);
  });

  it('has --help with an example', async () => {
    const result = await kd(['label', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Example:\n\s+kd label/);
  });
});
