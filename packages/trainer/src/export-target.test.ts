import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initializeBackend } from './backend.js';
import { saveCheckpoint } from './checkpoint.js';
import { exportModel } from './export.js';
import { exportProblem } from './export-target.js';
import { createModel, type LanguageModel } from './model.js';
import { exportTestConfig, teacherTokenizer } from './test-fixtures.js';

const child = fileURLToPath(new URL('./export-crash-child.ts', import.meta.url));
let work: string;
let model: LanguageModel;

beforeAll(async () => {
  await initializeBackend({ prefer: 'wasm' });
  work = await mkdtemp(join(tmpdir(), 'kd-export-target-'));
  model = createModel(exportTestConfig, { seed: 3 });
});
afterAll(async () => {
  model?.dispose();
  await rm(work, { recursive: true, force: true });
});

async function folder(name: string): Promise<string> {
  const path = join(work, name);
  await rm(path, { recursive: true, force: true });
  await mkdir(path, { recursive: true });
  return path;
}

const safetensorsSha = async (dir: string) => JSON.parse(await readFile(join(dir, 'kd-export.json'), 'utf8')).files['model.safetensors'] as string;

describe('exportModel refuses targets it did not write', () => {
  it('a regular file', async () => {
    const file = join(await folder('file'), 'notes.txt');
    await writeFile(file, 'mine');
    await expect(exportModel(model, file, { tokenizer: teacherTokenizer, overwrite: true })).rejects.toMatchObject({ code: 'E_EXPORT_TARGET', message: expect.stringMatching(/regular file/) });
    expect(await readFile(file, 'utf8')).toBe('mine');
  });

  it('a folder of user files, and an export a user added a file to', async () => {
    const user = await folder('user');
    await writeFile(join(user, 'thesis.tex'), 'mine');
    await expect(exportModel(model, user, { tokenizer: teacherTokenizer, overwrite: true })).rejects.toMatchObject({ code: 'E_EXPORT_TARGET', message: expect.stringMatching(/kd-export\.json/) });
    expect(await readFile(join(user, 'thesis.tex'), 'utf8')).toBe('mine');

    const exported = join(work, 'added-to');
    await rm(exported, { recursive: true, force: true });
    await exportModel(model, exported, { tokenizer: teacherTokenizer });
    await writeFile(join(exported, 'README.md'), 'my notes');
    await expect(exportModel(model, exported, { tokenizer: teacherTokenizer, overwrite: true })).rejects.toMatchObject({ code: 'E_EXPORT_TARGET', message: expect.stringMatching(/README\.md/) });
    expect(await readFile(join(exported, 'README.md'), 'utf8')).toBe('my notes');
  });

  it('the working directory and the folders above it', async () => {
    for (const target of [process.cwd(), join(process.cwd(), '..')]) {
      await expect(exportModel(model, target, { tokenizer: teacherTokenizer, overwrite: true })).rejects.toMatchObject({ code: 'E_EXPORT_TARGET', message: expect.stringMatching(/working directory/) });
    }
  });

  it('the run folder, its checkpoint folder and folders inside them', async () => {
    const run = await folder('run');
    await saveCheckpoint(run, {
      model,
      optimizerState: new Map(),
      state: { step: 1, dataPosition: 1, config: model.config, settings: { objective: 'ce', batchSize: 1, sequenceLength: 8, accumulate: 1, steps: 1, seed: 1, corpus: 'x' }, losses: [1] },
      tokenizerPath: teacherTokenizer,
    } as never);
    for (const target of [run, join(run, 'checkpoint'), join(run, 'export'), join(run, 'checkpoint', 'onnx'), work]) {
      await expect(exportModel(run, target, { overwrite: true })).rejects.toMatchObject({ code: 'E_EXPORT_TARGET', message: expect.stringMatching(/run being exported/) });
    }
    expect((await stat(join(run, 'checkpoint', 'state.json'))).isFile()).toBe(true);
    const result = await exportModel(join(run, 'checkpoint'), join(work, 'from-run'));
    expect(result.files).toContain('kd-export.json');
  });

  it('replaces an earlier export with overwrite, and only with it', async () => {
    const out = join(work, 'replaced');
    await rm(out, { recursive: true, force: true });
    await exportModel(model, out, { tokenizer: teacherTokenizer });
    await expect(exportModel(model, out, { tokenizer: teacherTokenizer })).rejects.toMatchObject({ code: 'E_EXPORT' });
    const other = createModel(exportTestConfig, { seed: 4 });
    const before = await safetensorsSha(out);
    await exportModel(other, out, { tokenizer: teacherTokenizer, overwrite: true });
    other.dispose();
    expect(await safetensorsSha(out)).not.toBe(before);
    expect(await exportProblem(out, { checksums: true })).toBeUndefined();
    expect((await readdir(work)).filter((name) => name.startsWith('replaced.'))).toEqual([]);
  });
});

function runChild(out: string, seed: number, stopAt: string): Promise<NodeJS.Signals | null> {
  return new Promise((resolve, reject) => {
    const process = spawn('node', ['--import', 'tsx', child, out, String(seed), stopAt], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    process.stdout.on('data', (chunk) => (output += chunk));
    process.stderr.on('data', (chunk) => (output += chunk));
    process.on('error', reject);
    process.on('exit', (code, signal) => (signal ? resolve(signal) : reject(new Error(`child exited with ${code} instead of stopping: ${output}`))));
  });
}

describe('an overwrite killed with SIGKILL leaves the old or the new export whole', () => {
  it.each([
    ['before the old export is moved aside', 'before-aside', 'old at the folder'],
    ['between moving the old aside and the new in', 'before-in', 'old beside the folder'],
    ['before the old export is deleted', 'before-delete', 'new at the folder'],
  ])('killed %s', async (_, stopAt, expected) => {
    const out = join(work, `killed-${stopAt}`);
    await rm(out, { recursive: true, force: true });
    await exportModel(model, out, { tokenizer: teacherTokenizer });
    const oldSha = await safetensorsSha(out);
    expect(await runChild(out, 11, stopAt)).toBe('SIGKILL');

    const siblings = (await readdir(work)).filter((name) => name.startsWith(`killed-${stopAt}.`));
    if (expected === 'old beside the folder') {
      await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
      const previous = siblings.find((name) => name.includes('.previous-'))!;
      expect(await exportProblem(join(work, previous), { checksums: true })).toBeUndefined();
      expect(await safetensorsSha(join(work, previous))).toBe(oldSha);
    } else {
      expect(await exportProblem(out, { checksums: true })).toBeUndefined();
      expect((await safetensorsSha(out)) === oldSha).toBe(expected === 'old at the folder');
    }
    expect(siblings.length).toBeGreaterThan(0);

    // The next export says what it found, cleans it up and leaves one whole export.
    const next = createModel(exportTestConfig, { seed: 12 });
    const result = await exportModel(next, out, { tokenizer: teacherTokenizer, overwrite: true });
    next.dispose();
    expect(result.recovered.length).toBe(siblings.length);
    if (expected === 'old beside the folder') expect(result.recovered.join('\n')).toMatch(/restored/);
    expect(await exportProblem(out, { checksums: true })).toBeUndefined();
    expect((await readdir(work)).filter((name) => name.startsWith(`killed-${stopAt}.`))).toEqual([]);
  });
});
