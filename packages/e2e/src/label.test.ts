// `kd label` and `kd inspect` end to end: the real teacher, real Parquet parts that DuckDB
// reads, checksums that catch a flipped byte, and clear errors for bad flags.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { readCorpus } from '@kd/teacher';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devCorpus, kd, teacherDir } from './harness.js';

const work = mkdtempSync(join(tmpdir(), 'kd-e2e-label-'));
const out = join(work, 'labels');
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('kd label → kd inspect', () => {
  let summary: Record<string, number>;
  beforeAll(async () => {
    const result = await kd([
      'label', '--teacher', teacherDir, '--data', devCorpus, '--tasks', 'translate', '--limit', '16',
      '--mode', 'fixed', '--k', '8', '--rows-per-part', '200', '--out', out, '--json',
    ]);
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
    const copy = join(work, 'corrupt');
    rmSync(copy, { recursive: true, force: true });
    const { cpSync } = await import('node:fs');
    cpSync(out, copy, { recursive: true });
    const partFile = readdirSync(copy).filter((name) => name.endsWith('.parquet')).sort()[1]!;
    const bytes = readFileSync(join(copy, partFile));
    bytes[Math.floor(bytes.length / 2)] ^= 0x40;
    writeFileSync(join(copy, partFile), bytes);
    const result = await kd(['inspect', copy, '--verify']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(partFile);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('kd label refuses bad input with one clear line', () => {
  it('names the flag of a bad number', async () => {
    const result = await kd(['label', '--data', devCorpus, '--out', join(work, 'x'), '--mode', 'fixed', '--k', '0']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/--k/);
  });

  it('says which corpus path is missing', async () => {
    const result = await kd(['label', '--teacher', teacherDir, '--data', join(work, 'nope.jsonl'), '--out', join(work, 'y')]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/nope\.jsonl/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('rejects p outside (0, 1]', async () => {
    const result = await kd(['label', '--teacher', teacherDir, '--data', devCorpus, '--out', join(work, 'z'), '--p', '1.5']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/p/);
  });

  it('has --help with an example', async () => {
    const result = await kd(['label', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Example:\n\s+kd label/);
  });
});
