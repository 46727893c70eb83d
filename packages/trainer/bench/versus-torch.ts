// The trainer's step beside its PyTorch twin (../shared/bench/torch_step.py) on the same CPU:
// rounds alternate kd and PyTorch at 2 and 1 threads, each in a fresh process, and the table
// gives the median over rounds of each one's median step. Prints markdown; --json keeps the rows.
// Run: npx tsx packages/trainer/bench/versus-torch.ts [--rounds 3] [--threads 2,1] [--steps 10] [--warmup 3] [--python /usr/bin/python3] [--keep dir | --summarize dir] [--json out.json]
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import type { BenchRow } from './step.js';

const run = promisify(execFile);
const torchScript = fileURLToPath(new URL('../../../../shared/bench/torch_step.py', import.meta.url));
const stepScript = fileURLToPath(new URL('./step.ts', import.meta.url));

interface TorchRow {
  size: string;
  forward: number;
  backward: number;
  optimizer: number;
  step: number;
  forward_nograd: number;
  flops: { total: number };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export interface Comparison {
  rounds: number;
  loadAverage: { min: number; max: number };
  rows: ComparisonRow[];
}

export interface ComparisonRow {
  size: string;
  threads: number;
  kdStepMs: number;
  kdForwardMs: number;
  kdBackwardMs: number;
  kdOptimizerMs: number;
  kdGflops: number;
  torchStepMs: number;
  torchForwardMs: number;
  torchBackwardMs: number;
  torchOptimizerMs: number;
  torchGflops: number;
  ratio: number;
  distillationStepMs: number;
}

/** Runs the rounds, writing each run's JSON into `folder` (kd-<round>-<threads>, kd-objective-<round>, torch-<round>-<threads>). */
export async function runRounds(folder: string, options: { rounds?: number; python?: string; threads?: number[]; steps?: number; warmup?: number } = {}): Promise<void> {
  const rounds = options.rounds ?? 3;
  const steps = String(options.steps ?? 10);
  const warmup = String(options.warmup ?? 3);
  const python = options.python ?? '/usr/bin/python3';
  const loads: number[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const threads of options.threads ?? [2, 1]) {
      loads.push(loadavg()[0]);
      await run('npx', ['tsx', stepScript, '--threads', String(threads), '--steps', steps, '--warmup', warmup, '--json', join(folder, `kd-${round}-${threads}.json`)], { maxBuffer: 1 << 24 });
      if (threads === 2) {
        // The distillation step in the same window, for KD / CE.
        await run('npx', ['tsx', stepScript, '--threads', '2', '--steps', steps, '--warmup', warmup, '--objective', 'kd', '--json', join(folder, `kd-objective-${round}.json`)], { maxBuffer: 1 << 24 });
      }
      await run(python, [torchScript, '--threads', String(threads), '--steps', steps, '--warmup', warmup, '--json', join(folder, `torch-${round}-${threads}.json`)], { maxBuffer: 1 << 24 });
      await writeFile(join(folder, 'load.json'), JSON.stringify(loads));
    }
  }
}

/** Medians over the runs found in `folder` (complete or not: each row says how many rounds it has). */
export async function summarize(folder: string): Promise<Comparison> {
  const kd = new Map<string, BenchRow[]>();
  const torch = new Map<string, TorchRow[]>();
  const distill = new Map<string, BenchRow[]>();
  const rounds = new Set<string>();
  for (const file of (await readdir(folder)).sort()) {
    const match = /^(kd|kd-objective|torch)-(\d+)(?:-(\d+))?\.json$/.exec(file);
    if (!match) continue;
    const [, kind, round, threads] = match;
    const data = JSON.parse(await readFile(join(folder, file), 'utf8'));
    if (kind === 'kd') for (const row of data as BenchRow[]) kd.set(`${row.size}|${threads}`, [...(kd.get(`${row.size}|${threads}`) ?? []), row]);
    if (kind === 'kd-objective') for (const row of data as BenchRow[]) distill.set(row.size, [...(distill.get(row.size) ?? []), row]);
    if (kind === 'torch') {
      rounds.add(round);
      for (const row of (data as { rows: TorchRow[] }).rows) torch.set(`${row.size}|${threads}`, [...(torch.get(`${row.size}|${threads}`) ?? []), row]);
    }
  }
  const rows = [...kd.keys()].filter((key) => torch.has(key)).map((key) => {
    const [size, threads] = key.split('|');
    const ours = kd.get(key)!;
    const theirs = torch.get(key)!;
    const kdStep = median(ours.map((row) => row.stepMs));
    const torchStep = median(theirs.map((row) => row.step));
    return {
      size,
      threads: Number(threads),
      kdStepMs: kdStep,
      kdForwardMs: median(ours.map((row) => row.forwardMs)),
      kdBackwardMs: median(ours.map((row) => row.backwardMs)),
      kdOptimizerMs: median(ours.map((row) => row.optimizerMs)),
      kdGflops: median(ours.map((row) => row.gflops)),
      torchStepMs: torchStep,
      torchForwardMs: median(theirs.map((row) => row.forward)),
      torchBackwardMs: median(theirs.map((row) => row.backward)),
      torchOptimizerMs: median(theirs.map((row) => row.optimizer)),
      torchGflops: theirs[0].flops.total / (torchStep / 1000) / 1e9,
      ratio: kdStep / torchStep,
      distillationStepMs: Number(threads) === 2 && distill.has(size) ? median(distill.get(size)!.map((row) => row.stepMs)) : Number.NaN,
    };
  });
  let loads: number[] = [];
  try {
    loads = JSON.parse(await readFile(join(folder, 'load.json'), 'utf8'));
  } catch {
    loads = [Number.NaN];
  }
  return { rounds: rounds.size, loadAverage: { min: Math.min(...loads), max: Math.max(...loads) }, rows };
}

/** Runs the rounds in a temporary folder and summarizes them. */
export async function compareWithTorch(options: { rounds?: number; python?: string; threads?: number[]; steps?: number; warmup?: number } = {}): Promise<Comparison> {
  const folder = await mkdtemp(join(tmpdir(), 'kd-versus-torch-'));
  try {
    await runRounds(folder, options);
    return await summarize(folder);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** The comparison as a markdown table. */
export function comparisonTable(comparison: Comparison): string[][] {
  return comparison.rows.map((row) => [
    row.size,
    String(row.threads),
    `${row.kdStepMs.toFixed(0)} (${row.kdForwardMs.toFixed(0)} / ${row.kdBackwardMs.toFixed(0)} / ${row.kdOptimizerMs.toFixed(0)})`,
    row.kdGflops.toFixed(1),
    `${row.torchStepMs.toFixed(0)} (${row.torchForwardMs.toFixed(0)} / ${row.torchBackwardMs.toFixed(0)} / ${row.torchOptimizerMs.toFixed(0)})`,
    row.torchGflops.toFixed(1),
    `${row.ratio.toFixed(2)}×`,
    Number.isNaN(row.distillationStepMs) ? '' : `${row.distillationStepMs.toFixed(0)} (${(row.distillationStepMs / row.kdStepMs).toFixed(2)}×)`,
  ]);
}

export const comparisonHeader = ['size', 'threads', 'kd step ms (fwd / bwd / opt)', 'kd GFLOP/s', 'PyTorch step ms (fwd / bwd / opt)', 'PyTorch GFLOP/s', 'kd / PyTorch', 'KD step ms (KD / CE)'];

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      threads: { type: 'string', default: '2,1' },
      steps: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      python: { type: 'string' },
      keep: { type: 'string' },
      summarize: { type: 'string' },
      json: { type: 'string' },
    },
  });
  const options = { rounds: Number(values.rounds), threads: values.threads.split(',').map(Number), steps: Number(values.steps), warmup: Number(values.warmup), python: values.python };
  // --keep DIR keeps each run's JSON there; --summarize DIR only summarizes runs kept earlier.
  let result: Comparison;
  if (values.summarize) result = await summarize(values.summarize);
  else if (values.keep) {
    await mkdir(values.keep, { recursive: true });
    await runRounds(values.keep, options);
    result = await summarize(values.keep);
  } else result = await compareWithTorch(options);
  if (values.json) await writeFile(values.json, JSON.stringify(result, null, 1));
  console.log(`${result.rounds} rounds; 1-minute load average ${result.loadAverage.min.toFixed(1)}–${result.loadAverage.max.toFixed(1)} at the start of each run`);
  console.log(`| ${comparisonHeader.join(' | ')} |`);
  console.log(`| ${comparisonHeader.map(() => '---').join(' | ')} |`);
  for (const cells of comparisonTable(result)) console.log(`| ${cells.join(' | ')} |`);
}
