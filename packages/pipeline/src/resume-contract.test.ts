// The resume contract of labelCorpus on the real teacher: a dataset folder can be continued only
// with the corpus and the row-changing settings it was labelled with.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelCorpus } from './label-corpus.js';
import type { LabelOptionsInput } from './label-options.js';

const shared = new URL('../../../../shared/', import.meta.url);
const teacher = fileURLToPath(new URL('fixtures/teacher-llama-13m', shared));
const devCorpus = fileURLToPath(new URL('corpus/dev.jsonl', shared));

const work = mkdtempSync(join(tmpdir(), 'kd-pipeline-resume-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Short records of dev.jsonl (translations, then emails), with line `changed` (if any) edited. */
function corpusFile(name: string, lines: number, changed?: number): string {
  const records = readFileSync(devCorpus, 'utf8').split('\n').filter(Boolean);
  const short = (task: string) => records.filter((line) => line.includes(`"task": "${task}"`) && line.length < 600);
  const source = [...short('translate').slice(0, 5), ...short('classify').slice(0, 5)].slice(0, lines);
  if (changed !== undefined) {
    const record = JSON.parse(source[changed]!);
    for (const key of ['text', 'src', 'input']) if (typeof record[key] === 'string') record[key] = `${record[key]} (edited)`;
    source[changed] = JSON.stringify(record);
  }
  const path = join(work, name);
  writeFileSync(path, `${source.join('\n')}\n`);
  return path;
}

const options = (corpus: string, out: string): LabelOptionsInput => ({
  teacher,
  corpus,
  out,
  compression: { mode: 'fixed', k: 4 },
  rowsPerPart: 120,
  limit: 6,
  window: 64,
});

const manifestOf = (out: string) => JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));

describe('labelCorpus resume contract', () => {
  const out = join(work, 'labels');
  let corpus: string;
  beforeAll(async () => {
    corpus = corpusFile('corpus.jsonl', 10);
    const summary = await labelCorpus(options(corpus, out));
    expect(summary.documents).toBe(6);
    expect(summary.parts).toBeGreaterThan(1);
  });

  it('records the corpus fingerprint and the settings, and resumes a run with the same ones', async () => {
    const manifest = manifestOf(out);
    expect(manifest.source.settings).toEqual({ tasks: null, limit: 6, window: 64, stride: null });
    expect(manifest.source.corpus.files).toBe(1);
    for (const part of manifest.parts) expect(part.documentsSha256).toMatch(/^[0-9a-f]{64}$/);
    const starts: { storedDocuments: number; totalDocuments: number }[] = [];
    const again = await labelCorpus(options(corpus, out), { onStart: (start) => starts.push(start) });
    expect(starts).toEqual([{ out, storedDocuments: 6, totalDocuments: 6, relabelled: [] }]);
    expect(again.labelledTokens).toBe(0);
  });

  it('refuses a corpus whose stored documents differ, naming the part, and leaves the dataset complete', async () => {
    const edited = corpusFile('edited.jsonl', 10, 3);
    const error = await labelCorpus(options(edited, out)).catch((caught) => caught);
    expect(error.code).toBe('E_RESUME_MISMATCH');
    expect(error.message).toMatch(/from another corpus: part-\d{5}\.parquet does not match this `corpus` \(its documents \d+–\d+ differ in content/);
    expect(error.message).toContain('label into a new `out` folder');
    expect(manifestOf(out).complete).toBe(true);
  });

  it('refuses a corpus with fewer documents than the dataset holds', async () => {
    const shorter = corpusFile('shorter.jsonl', 4);
    const error = await labelCorpus(options(shorter, out)).catch((caught) => caught);
    expect(error.code).toBe('E_RESUME_MISMATCH');
    expect(error.message).toMatch(/holds \d+ documents with indices \d+–\d+; this corpus has \d+ there/);
  });

  it('refuses another task filter, window, stride or limit, saying what each was', async () => {
    const tasks = await labelCorpus({ ...options(corpus, out), tasks: ['translate'] }).catch((caught) => caught);
    expect(tasks).toMatchObject({ code: 'E_RESUME_MISMATCH' });
    expect(tasks.message).toContain('with `tasks` all tasks (this run: translate)');
    expect(tasks.message).not.toContain('another corpus');
    const window = await labelCorpus({ ...options(corpus, out), window: 32, stride: 8 }).catch((caught) => caught);
    expect(window.message).toContain('with `window` 64 (this run: 32)');
    expect(window.message).toContain('with `stride` the default stride (this run: 8)');
    const limit = await labelCorpus({ ...options(corpus, out), limit: 8 }).catch((caught) => caught);
    expect(limit.message).toContain('with `limit` 6 (this run: 8)');
  });

  it('refuses a corpus folder whose file list changed', async () => {
    const folder = join(work, 'folder');
    mkdirSync(folder);
    cpSync(corpus, join(folder, 'a.jsonl'));
    const folderOut = join(work, 'folder-labels');
    await labelCorpus(options(folder, folderOut));
    cpSync(corpus, join(folder, 'b.jsonl'));
    const error = await labelCorpus(options(folder, folderOut)).catch((caught) => caught);
    expect(error.code).toBe('E_RESUME_MISMATCH');
    expect(error.message).toContain('from a corpus of 1 file with other names (this `corpus`: 2 files)');
  });
});
