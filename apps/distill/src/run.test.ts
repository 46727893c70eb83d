/// <reference lib="dom" />
// kd run end to end on a tiny config: every stage runs, a rerun skips them all, a run stopped
// after training resumes from the checkpoint, a changed eval section redoes only the eval; the
// report opens in a real browser
// (Debian's chromium through puppeteer-core) with its train and eval curves and table.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planRun, runPipeline, type RunSummary } from './commands/run.js';

const shared = new URL('../../../../shared/', import.meta.url);
const devCorpus = fileURLToPath(new URL('corpus/dev.jsonl', shared));
const teacher = fileURLToPath(new URL('fixtures/teacher-llama-13m', shared));
const studentTokenizer = fileURLToPath(new URL('../../../examples/student-tokenizer/tokenizer.json', import.meta.url));
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let folder: string;
let heldOut: string;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'kd-run-'));
  const rows = (await readFile(devCorpus, 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as { task: string; text?: string });
  const text = rows.find((row) => row.task === 'text')!;
  heldOut = join(folder, 'held-out.jsonl');
  await writeFile(heldOut, `${JSON.stringify({ ...text, text: text.text!.slice(0, 500) })}\n${JSON.stringify(rows.find((row) => row.task === 'classify'))}\n`);
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

const config = (steps: number, window = 64) => ({
  label: { teacher, corpus: devCorpus, tasks: ['classify'], limit: 8, out: join(folder, 'labels'), compression: { mode: 'fixed', k: 8 }, rowsPerPart: 400 },
  align: { cache: false },
  train: {
    studentTokenizer,
    out: join(folder, 'student'),
    model: { hiddenSize: 32, intermediateSize: 64, layers: 1, heads: 2, maxPositions: 128 },
    steps,
    batchSize: 2,
    sequenceLength: 16,
    checkpointEvery: 2,
    backend: 'wasm',
    threads: 2,
  },
  export: { out: join(folder, 'export') },
  eval: { corpus: heldOut, teacher, window, tasks: ['text', 'classify'] },
});

async function run(window?: number): Promise<RunSummary> {
  const file = join(folder, 'run.json');
  await writeFile(file, JSON.stringify(config(4, window)));
  const lines: string[] = [];
  return runPipeline(config(4, window), file, {}, (line) => lines.push(line));
}

describe('kd run', () => {
  it('runs every stage, skips them all on a rerun, resumes after a stop, redoes only a changed eval', { timeout: 900_000 }, async () => {
    const first = await run();
    expect(first.stages).toEqual({ label: 'done', align: 'done', train: 'done', export: 'done', eval: 'done' });
    expect(first.labels!.tokens).toBeGreaterThan(100);
    expect(first.eval!.klToTeacher).toBeGreaterThan(0);
    expect(first.eval!.classifyExamples).toBe(1);
    expect(existsSync(join(folder, 'export', 'onnx', 'model.onnx'))).toBe(true);
    expect(Object.keys(first.seconds)).toEqual(['label', 'align', 'train', 'export', 'eval']);
    expect(first.seconds.train).toBeGreaterThan(0);
    const checkpointState = join(folder, 'student', 'checkpoint', 'state.json');
    const trained = JSON.parse(await readFile(checkpointState, 'utf8'));
    expect(trained.step).toBe(4);
    // The eval section's corpus is the training run's held-out text: an eval point at step 0 and every step (a tenth of 4 steps, at least 1).
    expect(trained.evalLosses.map((point: { step: number }) => point.step)).toEqual([0, 1, 2, 3, 4]);
    expect(trained.settings.evaluation).toMatchObject({ every: 1 });

    const again = await run();
    expect(again.stages).toEqual({ label: 'skipped', align: 'skipped', train: 'skipped', export: 'skipped', eval: 'skipped' });
    expect(again.eval).toEqual(first.eval);

    // Stopped after the train checkpoint, before the stage was recorded: the rerun resumes the
    // checkpoint (its losses stay the first run's) instead of refusing the folder or retraining.
    const state = JSON.parse(await readFile(first.state, 'utf8'));
    delete state.stages.train;
    await writeFile(first.state, JSON.stringify(state));
    const resumed = await run();
    expect(resumed.stages).toEqual({ label: 'skipped', align: 'skipped', train: 'done', export: 'done', eval: 'done' });
    expect(JSON.parse(await readFile(checkpointState, 'utf8'))).toMatchObject({ losses: trained.losses, evalLosses: trained.evalLosses });

    const reevaluated = await run(32);
    expect(reevaluated.stages).toEqual({ label: 'skipped', align: 'skipped', train: 'skipped', export: 'skipped', eval: 'done' });
    const longer = reevaluated;
    const page = await readFile(longer.report, 'utf8');
    expect(page).not.toMatch(/<script|<link|src="http/);
    if (!existsSync(chromium)) throw new Error(`no browser at ${chromium}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
    const browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    try {
      const tab = await browser.newPage();
      const requests: string[] = [];
      tab.on('request', (request) => requests.push(request.url()));
      await tab.goto(pathToFileURL(longer.report).href, { waitUntil: 'load' });
      const rendered = await tab.evaluate(() => {
        const chart = document.querySelector('svg.loss-chart polyline.raw');
        const box = document.querySelector('svg.loss-chart')?.getBoundingClientRect();
        return {
          points: chart?.getAttribute('points')?.trim().split(/\s+/).length ?? 0,
          evalPoints: document.querySelector('svg.loss-chart polyline.eval')?.getAttribute('points')?.trim().split(/\s+/).length ?? 0,
          evalMarks: Array.from(document.querySelectorAll('svg.loss-chart circle.eval-point title')).map((title) => title.textContent),
          legend: Array.from(document.querySelectorAll('svg.loss-chart text.legend')).map((text) => text.textContent),
          heading: document.querySelector('#training h2')?.textContent,
          chartWidth: box?.width ?? 0,
          cells: Array.from(document.querySelectorAll('table.evaluation tbody td')).map((cell) => cell.textContent),
          storageBars: document.querySelectorAll('svg.storage-chart rect').length,
          labelRows: Array.from(document.querySelectorAll('table.labels th')).map((cell) => cell.textContent),
        };
      });
      expect(rendered.points).toBe(4);
      expect(rendered.heading).toBe('Train and eval loss');
      expect(rendered.evalPoints).toBe(5);
      expect(rendered.evalMarks).toEqual(trained.evalLosses.map((point: { step: number; loss: number }) => `step ${point.step}: ${point.loss.toFixed(4)}`));
      expect(rendered.legend).toEqual(['train loss per step', 'train, moving average', 'eval: held-out cross-entropy']);
      expect(rendered.chartWidth).toBeGreaterThan(100);
      expect(rendered.cells[0]).toBe(longer.eval!.perplexity!.toFixed(2));
      expect(rendered.cells).toContain(longer.eval!.klToTeacher!.toFixed(4));
      expect(rendered.storageBars).toBe(2);
      expect(rendered.labelRows).toContain('full fp32 rows');
      expect(requests.filter((url) => !url.startsWith('file:'))).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('validates each section with its stage schema and names the key', () => {
    expect(() => planRun({ ...config(2), train: { ...config(2).train, stpes: 3 } }, 'run.json')).toThrow(/"train": unknown key "stpes"/);
    expect(() => planRun({ ...config(2), eval: { corpus: heldOut, limit: 0 } }, 'run.json')).toThrow(/"eval.limit"/);
    expect(() => planRun({ ...config(2), evaluate: {} }, 'run.json')).toThrow(/unknown key.*"evaluate"/);
    const plan = planRun(config(2), 'run.json');
    expect(plan.train).toMatchObject({ objective: 'kd', labels: join(folder, 'labels'), teacherTokenizer: join(teacher, 'tokenizer.json') });
    expect(plan.eval!.student).toBe(join(folder, 'export'));
    expect(plan.align).toMatchObject({ dataset: join(folder, 'labels'), studentTokenizer });
  });
});
