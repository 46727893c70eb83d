// The built-in example, end to end on what this repository holds: `kd run --config
// examples/run.json` has the example teacher (examples/teacher, trained and exported by kd) label
// a corpus slice, aligns its vocabulary with a student's different, smaller tokenizer
// (examples/student-tokenizer), distills the student from the labels, exports and evaluates it
// and writes out/example/report.html; a cross-entropy-only twin trains on the same text with the
// same budget (`kd train` with the run's train options), and both are measured by `kd eval` on
// the same held-out text. Every step is a `kd` command, printed before it runs, so the example
// doubles as a tour of the command line.
//
//   pnpm example                 # outputs under out/example/ (a rerun skips or resumes each step)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../packages/infer/src/index.js';
import type { EvaluationResult } from '../packages/pipeline/src/index.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const out = join(repoRoot, 'out/example');
const runConfig = join(repoRoot, 'examples/run.json');
const cli = join(repoRoot, 'apps/distill/src/cli.ts');

const began = performance.now();
/** Seconds of each step of the example, in order. */
const times: [string, number][] = [];
/** The 1-minute load average after each step: the example's times mean little without it. */
const loads: number[] = [];
const seconds = (value: number) => (value < 120 ? `${value.toFixed(1)} s` : `${Math.floor(Math.round(value) / 60)}m${String(Math.round(value) % 60).padStart(2, '0')}s`);

/** Runs `kd …args` from source, showing the command and its output; stops the example on failure. */
function kd(args: string[], { capture = false, name = `kd ${args[0]}` } = {}): string {
  process.stdout.write(`\n$ kd ${args.map((arg) => arg.replace(repoRoot, '')).join(' ')}\n`);
  const started = performance.now();
  const result = spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], {
    cwd: repoRoot,
    env: { ...process.env, TSX_TSCONFIG_PATH: join(repoRoot, 'apps/distill/tsconfig.json') },
    stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'],
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    process.stderr.write(`example: kd ${args[0]} failed (exit ${result.status ?? result.signal})\n`);
    process.exit(1);
  }
  times.push([name, (performance.now() - started) / 1000]);
  loads.push(loadavg()[0]);
  return capture ? result.stdout : '';
}

interface RunConfig {
  label: { teacher: string; corpus: string; limit?: number };
  train: { out: string; steps: number; batchSize: number; sequenceLength: number; seed: number } & Record<string, unknown>;
  eval: { corpus: string; limit?: number; maxNewTokens?: number };
}
interface RunSummary {
  seconds: Record<string, number>;
  labels: { tokens: number; bytes: number; bytesPerToken: number; vocabSize: number; meanKept: number; meanTailMass: number };
  eval: EvaluationResult;
  report: string;
}

process.stdout.write('kd example: kd run (label → align → distill → export → eval → report), a CE twin, generate\n');
const config = JSON.parse(readFileSync(runConfig, 'utf8')) as RunConfig;
const summary = JSON.parse(kd(['run', '--config', runConfig, '--json'], { capture: true })) as RunSummary;

// The twin: the run's own train options, on the labelled documents with cross-entropy only, and
// the same held-out eval curve (kd run gives its training the eval corpus).
const twinRun = join(out, 'student-ce');
const twinConfig = join(out, 'twin.json');
mkdirSync(out, { recursive: true });
const { labels: _labels, teacherTokenizer: _teacherTokenizer, ...trainOptions } = config.train;
const twinOptions = { evalCorpus: config.eval.corpus, ...trainOptions, objective: 'ce', corpus: config.label.corpus, ...(config.label.limit ? { limit: config.label.limit } : {}), out: 'out/example/student-ce' };
writeFileSync(twinConfig, `${JSON.stringify(twinOptions, null, 2)}\n`);
const finished = join(twinRun, 'checkpoint', 'state.json');
if (existsSync(finished) && (JSON.parse(readFileSync(finished, 'utf8')) as { step?: number }).step === config.train.steps) {
  process.stdout.write(`\n(out/example/student-ce already trained for ${config.train.steps} steps)\n`);
} else {
  kd(['train', '--config', twinConfig, ...(existsSync(join(twinRun, 'checkpoint')) ? ['--resume'] : [])], { name: 'twin: kd train' });
}
const twinExport = join(out, 'export-ce');
kd(['export', '--checkpoint', twinRun, '--out', twinExport, ...(existsSync(twinExport) ? ['--overwrite'] : [])], { name: 'twin: kd export' });
const evalFlags = ['--corpus', config.eval.corpus, ...(config.eval.limit ? ['--limit', String(config.eval.limit)] : []), ...(config.eval.maxNewTokens ? ['--max-new-tokens', String(config.eval.maxNewTokens)] : [])];
const twin = JSON.parse(kd(['eval', '--student', twinExport, ...evalFlags, '--json'], { capture: true, name: 'twin: kd eval' })) as EvaluationResult;
const reference = JSON.parse(kd(['eval', '--student', config.label.teacher, ...evalFlags, '--tasks', 'text', 'code', '--json'], { capture: true, name: 'teacher: kd eval' })) as EvaluationResult;
/** The last point of a run's held-out eval curve (recorded in its checkpoint). */
const lastEval = (run: string) => (JSON.parse(readFileSync(join(run, 'checkpoint', 'state.json'), 'utf8')) as { evalLosses?: { step: number; loss: number }[] }).evalLosses?.at(-1);
const distilledCurve = lastEval(join(repoRoot, config.train.out));
const twinCurve = lastEval(twinRun);

const distilled = summary.eval;
const { labels } = summary;
const fullRowBytes = labels.vocabSize * 4;
const accuracy = (result: EvaluationResult) => (result.spamAccuracy === null ? '—' : result.spamAccuracy.toFixed(3));
const chrf = (result: EvaluationResult) => (result.chrF === null ? '—' : result.chrF.toFixed(1));
const lines = [
  '',
  `labels: ${labels.tokens.toLocaleString('en-US')} tokens at ${labels.bytesPerToken.toFixed(1)} bytes/token (mean ${labels.meanKept.toFixed(1)} kept, tail ${labels.meanTailMass.toFixed(3)}),`,
  `        against ${fullRowBytes.toLocaleString('en-US')} bytes/token for full fp32 rows: ${Math.round(fullRowBytes / labels.bytesPerToken).toLocaleString('en-US')}× smaller`,
  `fidelity: KL(teacher‖distilled student) ${distilled.klToTeacher?.toFixed(3) ?? '—'} nats on ${((distilled.alignedFraction ?? 0) * 100).toFixed(1)}% of the held-out positions (aligned by character offsets)`,
  '',
  '| model | perplexity per own token | bits per byte | spam/ham accuracy | chrF EN→DE |',
  '| --- | --- | --- | --- | --- |',
  `| teacher (16k vocabulary) | ${reference.perplexity?.toFixed(1)} | ${reference.bitsPerByte?.toFixed(3)} | | |`,
  `| student, distilled (8k vocabulary) | ${distilled.perplexity?.toFixed(1)} | ${distilled.bitsPerByte?.toFixed(3)} | ${accuracy(distilled)} | ${chrf(distilled)} |`,
  `| student, cross-entropy twin | ${twin.perplexity?.toFixed(1)} | ${twin.bitsPerByte?.toFixed(3)} | ${accuracy(twin)} | ${chrf(twin)} |`,
  '',
  `distilled / twin perplexity: ${(distilled.perplexity! / twin.perplexity!).toFixed(3)} (same ${config.train.steps} steps × ${config.train.batchSize * config.train.sequenceLength} tokens, seed ${config.train.seed})`,
  ...(distilledCurve && twinCurve
    ? [`held-out cross-entropy at step ${distilledCurve.step} (the eval curves' last point): distilled ${distilledCurve.loss.toFixed(3)}, twin ${twinCurve.loss.toFixed(3)} nats per student token`]
    : []),
  `report: ${summary.report.replace(repoRoot, '')}`,
];
process.stdout.write(`${lines.join('\n')}\n`);

const model = await loadModel(join(repoRoot, 'out/example/export-kd'));
try {
  const prompt = 'The ship sailed';
  const generated = await model.generate(prompt, { maxNewTokens: 24, temperature: 0 });
  process.stdout.write(`\nthe distilled student continues "${prompt}": ${JSON.stringify(generated.text)}\n`);
} finally {
  await model.dispose();
}
const total = (performance.now() - began) / 1000;
const stages = Object.entries(summary.seconds);
process.stdout.write(
  `\ntimes: ${times.map(([name, value]) => `${name} ${seconds(value)}`).join(' · ')}\n` +
    (stages.length > 0 ? `kd run stages: ${stages.map(([name, value]) => `${name} ${seconds(value)}`).join(' · ')} (a stage a rerun skipped is not listed)\n` : '') +
    `total ${seconds(total)} on ${availableParallelism()} cores; 1-minute load average after each step ${loads.map((load) => load.toFixed(1)).join(', ')}\n`,
);
