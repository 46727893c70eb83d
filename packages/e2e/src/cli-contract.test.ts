// The CLI's output contract, each command in its own process as a script runs it: `--json`
// leaves exactly one JSON document on stdout, every failure (commander's parse errors too) is
// `kd: CODE: …` or, with --json, a JSON error; an interrupted `kd train` exits non-zero; a
// resume with another corpus or windowing is refused.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collect, devCorpus, kd, repoRoot, startKd, teacherDir } from './test-fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'kd-e2e-contract-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const studentTokenizer = join(repoRoot, 'examples/student-tokenizer/tokenizer.json');
const tinyTrain = (out: string, steps: number) => [
  'train', '--corpus', devCorpus, '--tokenizer', studentTokenizer, '--out', out, '--limit', '20',
  '--hidden-size', '32', '--layers', '1', '--heads', '2', '--batch-size', '2', '--sequence-length', '16',
  '--steps', String(steps), '--backend', 'wasm',
];
const labelArgs = (corpus: string, out: string, extra: string[] = []) => [
  'label', '--teacher', teacherDir, '--corpus', corpus, '--tasks', 'translate', '--limit', '4',
  '--mode', 'fixed', '--k', '4', '--rows-per-part', '100', '--out', out, ...extra,
];

describe('kd --help and --version', () => {
  it('lists the commands and reads the version from package.json', async () => {
    const help = await kd(['--help']);
    expect(help.code).toBe(0);
    for (const name of ['label', 'inspect', 'align', 'train', 'export']) expect(help.stdout).toContain(name);
    const version = await kd(['--version']);
    const { version: expected } = JSON.parse(readFileSync(join(repoRoot, 'apps/distill/package.json'), 'utf8'));
    expect(version.stdout.trim()).toBe(expected);
  });
});

describe('errors', () => {
  it("commander's own parse errors use the kd: CODE form on one line", async () => {
    const results = await Promise.all([['label', '--k'], ['train', '--hidden', '128'], ['inspect']].map((args) => kd(args)));
    for (const result of results) {
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^kd: E_USAGE: .+\n$/);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('with --json, a failure is one JSON document on stdout', async () => {
    const parse = await kd(['train', '--hidden', '128', '--json']);
    expect(parse.code).toBe(1);
    expect(JSON.parse(parse.stdout)).toMatchObject({ error: { code: 'E_USAGE', message: expect.stringContaining('--hidden') } });
    const invalid = await kd(['label', '--corpus', devCorpus, '--out', join(work, 'never'), '--k-max', '0', '--json']);
    expect(invalid.code).toBe(1);
    expect(JSON.parse(invalid.stdout)).toEqual({ error: { code: 'E_USAGE', message: '--k-max: Too small: expected number to be >=1 (got 0)' } });
  });
});

describe('kd train', () => {
  it('--json prints exactly one JSON document on stdout', async () => {
    const result = await kd([...tinyTrain(join(work, 'json-run'), 1), '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ step: 1, stopped: false, backend: 'wasm' });
    expect(result.stderr).toMatch(/^backend: wasm/m);
  });

  it('exits with 130 after Ctrl-C, with the checkpoint written', async () => {
    const out = join(work, 'interrupted');
    const child = startKd(tinyTrain(out, 100_000));
    const done = collect(child);
    // The start line comes after the SIGINT handler is installed and before the first step.
    await new Promise<void>((resolve) => {
      let seen = '';
      child.stdout!.on('data', (chunk) => {
        seen += chunk;
        if (/^model: /m.test(seen)) resolve();
      });
    });
    child.kill('SIGINT');
    const result = await done;
    expect(result.code).toBe(130);
    expect(result.stdout).toMatch(/stopped at step \d+\/100000/);
    expect(existsSync(join(out, 'checkpoint', 'state.json'))).toBe(true);
  });
});

describe('kd label', () => {
  const out = join(work, 'labels');
  it('a resuming --json run prints exactly one JSON document on stdout', async () => {
    expect((await kd(labelArgs(devCorpus, out))).code).toBe(0);
    const again = await kd(labelArgs(devCorpus, out, ['--json']));
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ documents: 4, resumedDocuments: 4, labelledTokens: 0 });
    expect(again.stderr).toMatch(/resuming .*: 4 of 4 documents already stored/);
  });

  it('refuses to resume with another corpus or window, naming the flags', async () => {
    const lines = readFileSync(devCorpus, 'utf8').split('\n').filter((line) => line.includes('"task": "translate"'));
    const other = join(work, 'other.jsonl');
    writeFileSync(other, `${lines.slice(10, 20).join('\n')}\n`);
    const corpus = await kd(labelArgs(other, out));
    expect(corpus.code).toBe(1);
    expect(corpus.stderr).toMatch(/^kd: E_RESUME_MISMATCH: cannot resume .*from another corpus: part-00000\.parquet does not match this --corpus/);
    expect(corpus.stderr).toContain('label into a new --out folder');
    const window = await kd(labelArgs(devCorpus, out, ['--window', '32']));
    expect(window.code).toBe(1);
    expect(window.stderr).toContain('with --window the default window (this run: 32)');
  });
});
