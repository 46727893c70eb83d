// The trainer's step beside its PyTorch twin (../shared/bench/torch_step.py) on the same CPU:
// rounds alternate kd and PyTorch at 2 and 1 threads, each in a fresh process, and the table
// gives the median over rounds of each one's median step. Prints markdown; --json keeps the rows.
// Run: npx tsx packages/trainer/bench/versus-torch.ts [--rounds 3] [--threads 2,1] [--steps 10] [--warmup 3] [--python /usr/bin/python3] [--json out.json]
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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

export async function compareWithTorch(options: { rounds?: number; python?: string; threads?: number[]; steps?: number; warmup?: number } = {}) {
  const rounds = options.rounds ?? 3;
  const steps = String(options.steps ?? 10);
  const warmup = String(options.warmup ?? 3);
  const python = options.python ?? '/usr/bin/python3';
  const folder = await mkdtemp(join(tmpdir(), 'kd-versus-torch-'));
  const kd = new Map<string, BenchRow[]>();
  const torch = new Map<string, TorchRow[]>();
  const distill = new Map<string, BenchRow[]>();
  const loads: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      for (const threads of options.threads ?? [2, 1]) {
        loads.push(loadavg()[0]);
        const kdFile = join(folder, `kd-${round}-${threads}.json`);
        await run('npx', ['tsx', stepScript, '--threads', String(threads), '--steps', steps, '--warmup', warmup, '--json', kdFile], { maxBuffer: 1 << 24 });
        for (const row of JSON.parse(await readFile(kdFile, 'utf8')) as BenchRow[]) kd.set(`${row.size}|${threads}`, [...(kd.get(`${row.size}|${threads}`) ?? []), row]);
        if (threads === 2) {
          // The distillation step in the same window, for KD / CE.
          const kdObjectiveFile = join(folder, `kd-objective-${round}.json`);
          await run('npx', ['tsx', stepScript, '--threads', '2', '--steps', steps, '--warmup', warmup, '--objective', 'kd', '--json', kdObjectiveFile], { maxBuffer: 1 << 24 });
          for (const row of JSON.parse(await readFile(kdObjectiveFile, 'utf8')) as BenchRow[]) distill.set(row.size, [...(distill.get(row.size) ?? []), row]);
        }
        const torchFile = join(folder, `torch-${round}-${threads}.json`);
        await run(python, [torchScript, '--threads', String(threads), '--steps', steps, '--warmup', warmup, '--json', torchFile], { maxBuffer: 1 << 24 });
        for (const row of (JSON.parse(await readFile(torchFile, 'utf8')) as { rows: TorchRow[] }).rows) torch.set(`${row.size}|${threads}`, [...(torch.get(`${row.size}|${threads}`) ?? []), row]);
      }
    }
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
  const rows = [...kd.keys()].map((key) => {
    const [size, threads] = key.split('|');
    const ours = kd.get(key)!;
    const theirs = torch.get(key) ?? [];
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
      torchGflops: theirs[0] ? theirs[0].flops.total / (torchStep / 1000) / 1e9 : Number.NaN,
      ratio: kdStep / torchStep,
      distillationStepMs: Number(threads) === 2 ? median((distill.get(size) ?? []).map((row) => row.stepMs)) : Number.NaN,
    };
  });
  return { rounds, loadAverage: { min: Math.min(...loads), max: Math.max(...loads) }, rows };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: { rounds: { type: 'string', default: '3' }, threads: { type: 'string', default: '2,1' }, steps: { type: 'string', default: '10' }, warmup: { type: 'string', default: '3' }, python: { type: 'string' }, json: { type: 'string' } },
  });
  const result = await compareWithTorch({ rounds: Number(values.rounds), threads: values.threads.split(',').map(Number), steps: Number(values.steps), warmup: Number(values.warmup), python: values.python });
  if (values.json) await writeFile(values.json, JSON.stringify(result, null, 1));
  console.log(`${result.rounds} rounds; 1-minute load average ${result.loadAverage.min.toFixed(1)}–${result.loadAverage.max.toFixed(1)} at the start of each run`);
  console.log('| size | threads | kd step ms (fwd / bwd / opt) | kd GFLOP/s | PyTorch step ms (fwd / bwd / opt) | PyTorch GFLOP/s | kd / PyTorch | kd KD step ms (KD / CE) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const row of result.rows) {
    console.log(
      `| ${row.size} | ${row.threads} | ${row.kdStepMs.toFixed(0)} (${row.kdForwardMs.toFixed(0)} / ${row.kdBackwardMs.toFixed(0)} / ${row.kdOptimizerMs.toFixed(0)}) | ${row.kdGflops.toFixed(0)} | ${row.torchStepMs.toFixed(0)} (${row.torchForwardMs.toFixed(0)} / ${row.torchBackwardMs.toFixed(0)} / ${row.torchOptimizerMs.toFixed(0)}) | ${row.torchGflops.toFixed(0)} | ${row.ratio.toFixed(2)}× | ${Number.isNaN(row.distillationStepMs) ? '' : `${row.distillationStepMs.toFixed(0)} (${(row.distillationStepMs / row.kdStepMs).toFixed(2)}×)`} |`,
    );
  }
}
