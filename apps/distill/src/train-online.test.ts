import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distillOnline } from '@kd/pipeline';
import { afterAll, describe, expect, it } from 'vitest';
import { trainCommand } from './commands/train.js';

const shared = new URL('../../../../shared/', import.meta.url);
const corpus = fileURLToPath(new URL('corpus/dev.jsonl', shared));
const teacher = fileURLToPath(new URL('fixtures/teacher-llama-13m', shared));
const studentTokenizer = fileURLToPath(new URL('../../../examples/student-tokenizer/tokenizer.json', import.meta.url));
const folders: string[] = [];
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

async function run(args: string[]): Promise<string[]> {
  const command = trainCommand();
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

const student = { hiddenSize: 32, intermediateSize: 64, layers: 1, heads: 2, maxPositions: 64 };

describe('kd train --objective kd --teacher (online)', () => {
  it('trains from the teacher in the loop: the losses of distillOnline with the same options', { timeout: 600_000 }, async () => {
    const folder = await mkdtemp(join(tmpdir(), 'kd-cli-online-'));
    folders.push(folder);
    const common = { corpus, tasks: ['classify' as const], limit: 12, studentTokenizer, model: student, steps: 3, batchSize: 2, sequenceLength: 16, seed: 3, backend: 'wasm' as const, threads: 2 };
    const logs = await run([
      '--objective', 'kd', '--teacher', teacher, '--corpus', corpus, '--tasks', 'classify', '--limit', '12',
      '--student-tokenizer', studentTokenizer, '--hidden-size', '32', '--intermediate-size', '64', '--layers', '1', '--heads', '2', '--max-positions', '64',
      '--steps', '3', '--batch-size', '2', '--sequence-length', '16', '--seed', '3', '--backend', 'wasm', '--threads', '2',
      '--mode', 'fixed', '--k', '8', '--rows-per-part', '400', '--out', join(folder, 'cli'), '--json',
    ]);
    const summary = JSON.parse(logs.at(-1)!);
    expect(summary).toMatchObject({ step: 3, stopped: false });
    const state = JSON.parse(await readFile(join(folder, 'cli', 'checkpoint', 'state.json'), 'utf8'));
    expect(state.settings).toMatchObject({ objective: 'kd' });
    const library = await distillOnline({ ...common, objective: 'kd', teacher, out: join(folder, 'library') }, { compression: { mode: 'fixed', k: 8 }, rowsPerPart: 400 });
    expect(state.losses).toEqual(library.losses);
    // Another compression gives other teacher rows, so other losses: the flags reach the teacher.
    const other = await distillOnline({ ...common, objective: 'kd', teacher, out: join(folder, 'other') }, { compression: { mode: 'fixed', k: 1 }, rowsPerPart: 400 });
    expect(other.losses).not.toEqual(library.losses);
  });

  it('offers full-distribution rows (--mode full) and refuses them with a quantization or a compression setting', { timeout: 120_000 }, async () => {
    const help: string[] = [];
    const command = trainCommand();
    command.exitOverride();
    command.configureOutput({ writeOut: (text) => help.push(text), writeErr: () => {} });
    await expect(command.parseAsync(['--objective', 'kd', '--teacher', teacher, '--help'], { from: 'user' })).rejects.toMatchObject({ code: 'commander.helpDisplayed' });
    expect(help.join('').replace(/\s+/g, ' ')).toMatch(/--mode <mode> .*choices: fixed, adaptive, sampled, hybrid, full/);
    const base = ['--objective', 'kd', '--teacher', teacher, '--corpus', corpus, '--student-tokenizer', studentTokenizer, '--steps', '1', '--out', '/tmp/never-full', '--mode', 'full'];
    await expect(run([...base, '--quantization', 'u8-log'])).rejects.toThrow(/quantization u8-log does not apply to compression mode full/);
    await expect(run([...base, '--k', '8'])).rejects.toThrow(/--k does not apply with --mode full/);
  });

  it('refuses online options without a teacher', async () => {
    await expect(run(['--objective', 'kd', '--labels', '/nonexistent/labels', '--student-tokenizer', studentTokenizer, '--teacher-tokenizer', studentTokenizer, '--out', '/tmp/never-online', '--steps', '1', '--k', '8'])).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringMatching(/teacher/) });
  });
});
