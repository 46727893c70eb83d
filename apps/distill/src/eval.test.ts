import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { evalCommand } from './commands/eval.js';

const shared = new URL('../../../../shared/', import.meta.url);
const devCorpus = fileURLToPath(new URL('corpus/dev.jsonl', shared));
const teacher = fileURLToPath(new URL('fixtures/teacher-llama-13m', shared));
const folders: string[] = [];
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

async function run(args: string[]): Promise<string[]> {
  const command = evalCommand();
  command.exitOverride();
  command.configureOutput({ writeOut: () => {}, writeErr: () => {} });
  const logs: string[] = [];
  const original = console.log;
  console.log = (line: string) => logs.push(line);
  try {
    await command.parseAsync(args, { from: 'user' });
  } finally {
    console.log = original;
  }
  return logs;
}

describe('kd eval', () => {
  it('prints one JSON document with the metrics and their counts, and writes the report', { timeout: 300_000 }, async () => {
    const folder = await mkdtemp(join(tmpdir(), 'kd-cli-eval-'));
    folders.push(folder);
    // The first text record of dev.jsonl, cut short, and its first classify record.
    const rows = (await readFile(devCorpus, 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as { task: string; text?: string });
    const text = rows.find((row) => row.task === 'text')!;
    const corpus = join(folder, 'held-out.jsonl');
    await writeFile(corpus, `${JSON.stringify({ ...text, text: text.text!.slice(0, 600) })}\n${JSON.stringify(rows.find((row) => row.task === 'classify'))}\n`);
    const report = join(folder, 'report.html');
    const logs = await run(['--student', teacher, '--corpus', corpus, '--teacher', teacher, '--window', '64', '--json', '--report', report]);
    expect(logs).toHaveLength(1);
    const result = JSON.parse(logs[0]!);
    expect(Object.keys(result)).toEqual(expect.arrayContaining(['perplexity', 'bitsPerByte', 'klToTeacher', 'spamAccuracy', 'chrF', 'tokens', 'classifyExamples', 'translateExamples']));
    expect(result.klToTeacher).toBeLessThan(1e-4);
    expect(result.classifyExamples).toBe(1);
    expect(result.chrF).toBeNull();
    const page = await readFile(report, 'utf8');
    expect(page).toContain(result.perplexity.toFixed(2));
    expect(page).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it('names the flag of a wrong value', async () => {
    await expect(run(['--student', teacher, '--corpus', devCorpus, '--limit', '0'])).rejects.toThrow(/--limit/);
    await expect(run(['--corpus', devCorpus])).rejects.toThrow(/--student/);
  });
});
