import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alignCommand } from './commands/align.js';
import { labelCommand } from './commands/label.js';

const shared = new URL('../../../../shared/', import.meta.url);
const corpus = fileURLToPath(new URL('corpus/dev.jsonl', shared));
const teacherDir = fileURLToPath(new URL('fixtures/teacher-llama-13m', shared));
const studentDir = fileURLToPath(new URL('../../../examples/student-tokenizer', import.meta.url));

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'kd-cli-align-'));
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** Runs a command in-process and returns what it printed. */
async function run(command: ReturnType<typeof alignCommand>, args: string[]): Promise<string[]> {
  command.exitOverride();
  command.configureOutput({ writeOut: () => {}, writeErr: () => {} });
  const lines: string[] = [];
  const original = console.log;
  console.log = (line: string) => lines.push(line);
  try {
    await command.parseAsync(args, { from: 'user' });
  } finally {
    console.log = original;
  }
  return lines;
}

describe('kd align', () => {
  it('help shows an example', () => {
    let text = '';
    const command = alignCommand();
    command.configureOutput({ writeOut: (chunk) => (text += chunk) });
    command.outputHelp();
    expect(text).toContain('--teacher-tokenizer <path>');
    expect(text).toMatch(/Example:\n\s+kd align --teacher-tokenizer /);
  });

  it('reports vocabulary coverage as JSON and caches the map under both tokenizers', async () => {
    const cacheDir = join(folder, 'cache');
    const args = ['--teacher-tokenizer', teacherDir, '--student-tokenizer', studentDir, '--cache-dir', cacheDir, '--json'];
    const [line] = await run(alignCommand(), args);
    const report = JSON.parse(line);
    expect(report).toMatchObject({ teacherVocab: 32000, studentVocab: 8000, specialMapped: 3, unknownMapped: 0, cacheDir });
    expect(report.exactMapped + report.tokenizerMapped + report.specialMapped).toBe(32000);
    expect(report.overlapNormalized).toBeGreaterThan(report.overlapRaw);
    expect(report.exactMapped).toBeGreaterThan(0);
    expect(report.dataset).toBeUndefined();
    expect(await readdir(cacheDir)).toHaveLength(1);
    // The second run reads the cached map and reports the same figures.
    const again = JSON.parse((await run(alignCommand(), args))[0]);
    expect({ ...again, mapSeconds: 0 }).toEqual({ ...report, mapSeconds: 0 });
  });

  it('prints a table', async () => {
    const lines = await run(alignCommand(), ['--teacher-tokenizer', join(teacherDir, 'tokenizer.json'), '--student-tokenizer', studentDir, '--no-cache']);
    const text = lines.join('\n');
    expect(text).toMatch(/overlap, raw strings\s+\d+/);
    expect(text).toMatch(/overlap, byte-normalized\s+\d+/);
    expect(text).toMatch(/mapped by the student tokenizer\s+\d+/);
    expect(text).toContain('not cached');
  });

  it('adds mass shares and aligned positions for a labelled dataset, and refuses one from another tokenizer', async () => {
    const labels = join(folder, 'labels');
    await run(labelCommand(), ['--teacher', teacherDir, '--corpus', corpus, '--limit', '6', '--tasks', 'translate', 'classify', 'code', '--out', labels, '--mode', 'fixed', '--k', '8', '--json']);
    const [line] = await run(alignCommand(), ['--teacher-tokenizer', teacherDir, '--student-tokenizer', studentDir, '--dataset', labels, '--no-cache', '--json']);
    const { dataset } = JSON.parse(line);
    expect(dataset.documents).toBe(6);
    expect(dataset.teacherPositions).toBeGreaterThan(0);
    const shares = dataset.massShare;
    expect(shares.exact + shares.tokenizer + shares.special + shares.unknown + shares.tail).toBeCloseTo(1, 6);
    expect(shares.exact).toBeGreaterThan(0);
    expect(dataset.alignedPositionFraction).toBeGreaterThan(0);
    expect(dataset.alignedPositionFraction).toBeLessThanOrEqual(1);
    expect(dataset.alignedPositions).toBeLessThanOrEqual(dataset.studentPositions);

    await expect(run(alignCommand(), ['--teacher-tokenizer', studentDir, '--student-tokenizer', studentDir, '--dataset', labels, '--no-cache'])).rejects.toMatchObject({
      code: 'E_TOKENIZER_MISMATCH',
    });
  });

  it('names a missing flag', async () => {
    await expect(run(alignCommand(), ['--teacher-tokenizer', teacherDir])).rejects.toMatchObject({
      code: 'E_USAGE',
      message: expect.stringContaining('--student-tokenizer'),
    });
  });
});
