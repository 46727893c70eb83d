// The built-in example, end to end on what this repository holds: the example teacher
// (examples/teacher, trained and exported by kd) labels a corpus slice, a student with a
// different, smaller tokenizer (examples/student-tokenizer) distills from those labels, a
// cross-entropy-only twin trains on the same text with the same budget, both are exported and
// measured on held-out text, and the distilled student writes a line. Every step is a `kd`
// command, printed before it runs, so the example doubles as a tour of the command line.
//
//   pnpm example                 # outputs under out/example/ (a rerun resumes or reuses each step)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../packages/infer/src/index.js';
import { readCorpus } from '../packages/text/src/index.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const out = join(repoRoot, 'out/example');
const teacher = join(repoRoot, 'examples/teacher');
const studentTokenizer = join(repoRoot, 'examples/student-tokenizer/tokenizer.json');
const trainCorpus = join(repoRoot, 'examples/corpus/train.jsonl');
const devCorpus = join(repoRoot, 'examples/corpus/dev.jsonl');
const cli = join(repoRoot, 'apps/distill/src/cli.ts');

/** Runs `kd …args` from source, showing the command and its output; stops the example on failure. */
function kd(args: string[], { capture = false } = {}): string {
  process.stdout.write(`\n$ kd ${args.map((arg) => arg.replace(repoRoot, '')).join(' ')}\n`);
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
  return capture ? result.stdout : '';
}

const student = { hiddenSize: 128, layers: 2, heads: 4 };
const budget = { steps: 150, batchSize: 8, sequenceLength: 128, seed: 0 };
const trainFlags = [
  '--student-tokenizer', studentTokenizer,
  '--hidden-size', String(student.hiddenSize), '--layers', String(student.layers), '--heads', String(student.heads),
  '--steps', String(budget.steps), '--batch-size', String(budget.batchSize), '--sequence-length', String(budget.sequenceLength),
  '--seed', String(budget.seed), '--warmup-steps', '15', '--checkpoint-every', String(budget.steps),
];

/** Trains into `dir` unless a finished run is there; a stopped run resumes. */
function trainOnce(dir: string, extra: string[]): void {
  const finished = join(dir, 'checkpoint', 'state.json');
  if (existsSync(finished) && (JSON.parse(readFileSync(finished, 'utf8')) as { step?: number }).step === budget.steps) {
    process.stdout.write(`\n(${dir.replace(repoRoot, '')} already trained for ${budget.steps} steps)\n`);
    return;
  }
  kd(['train', ...extra, ...trainFlags, '--out', dir, ...(existsSync(join(dir, 'checkpoint')) ? ['--resume'] : [])]);
}

function exportOnce(run: string, dir: string): void {
  kd(['export', '--checkpoint', run, '--out', dir, ...(existsSync(dir) ? ['--overwrite'] : [])]);
}

const labels = join(out, 'labels');
process.stdout.write('kd example: label → distill → train a CE twin → export → evaluate → generate\n');
kd(['label', '--teacher', teacher, '--corpus', trainCorpus, '--mode', 'adaptive', '--p', '0.95', '--k-max', '64', '--out', labels]);
const stats = JSON.parse(kd(['inspect', labels, '--json'], { capture: true })) as { bytesPerToken: number; meanKept: number; meanTailMass: number; tokens: number; manifest: { vocabSize: number } };
kd(['align', '--teacher-tokenizer', join(teacher, 'tokenizer.json'), '--student-tokenizer', studentTokenizer, '--dataset', labels]);

const kdRun = join(out, 'student-kd');
const ceRun = join(out, 'student-ce');
trainOnce(kdRun, ['--objective', 'kd', '--labels', labels, '--teacher-tokenizer', join(teacher, 'tokenizer.json')]);
trainOnce(ceRun, ['--objective', 'ce', '--corpus', trainCorpus]);
exportOnce(kdRun, join(out, 'export-kd'));
exportOnce(ceRun, join(out, 'export-ce'));

/** Perplexity per student token and bits per UTF-8 byte of the held-out texts under one model folder. */
async function heldOut(dir: string): Promise<{ perplexity: number; bitsPerByte: number; tokens: number }> {
  const model = await loadModel(dir);
  let nats = 0;
  let tokens = 0;
  let bytes = 0;
  try {
    for await (const document of readCorpus(devCorpus, { tasks: ['text', 'code'] })) {
      const scored = await model.score(document.text);
      for (const logProbability of scored.logProbs) nats -= logProbability;
      tokens += scored.logProbs.length;
      bytes += Buffer.byteLength(document.text);
    }
  } finally {
    await model.dispose();
  }
  return { perplexity: Math.exp(nats / tokens), bitsPerByte: nats / Math.LN2 / bytes, tokens };
}

process.stdout.write('\nevaluating on the held-out text and code of examples/corpus/dev.jsonl …\n');
const distilled = await heldOut(join(out, 'export-kd'));
const twin = await heldOut(join(out, 'export-ce'));
const reference = await heldOut(teacher);
const fullRowBytes = stats.manifest.vocabSize * 4;
const lines = [
  '',
  `labels: ${stats.tokens.toLocaleString('en-US')} tokens at ${stats.bytesPerToken.toFixed(1)} bytes/token (mean ${stats.meanKept.toFixed(1)} kept, tail ${stats.meanTailMass.toFixed(3)}),`,
  `        against ${fullRowBytes.toLocaleString('en-US')} bytes/token for full fp32 rows: ${Math.round(fullRowBytes / stats.bytesPerToken).toLocaleString('en-US')}× smaller`,
  '',
  '| model | perplexity per own token | bits per byte |',
  '| --- | --- | --- |',
  `| teacher (16k vocabulary) | ${reference.perplexity.toFixed(1)} | ${reference.bitsPerByte.toFixed(3)} |`,
  `| student, distilled (8k vocabulary) | ${distilled.perplexity.toFixed(1)} | ${distilled.bitsPerByte.toFixed(3)} |`,
  `| student, cross-entropy twin | ${twin.perplexity.toFixed(1)} | ${twin.bitsPerByte.toFixed(3)} |`,
  '',
  `distilled / twin perplexity: ${(distilled.perplexity / twin.perplexity).toFixed(3)} (same ${budget.steps} steps × ${budget.batchSize * budget.sequenceLength} tokens, seed ${budget.seed})`,
];
process.stdout.write(`${lines.join('\n')}\n`);

const model = await loadModel(join(out, 'export-kd'));
try {
  const prompt = 'The ship sailed';
  const generated = await model.generate(prompt, { maxNewTokens: 24, temperature: 0 });
  process.stdout.write(`\nthe distilled student continues "${prompt}": ${JSON.stringify(generated.text)}\n`);
} finally {
  await model.dispose();
}
