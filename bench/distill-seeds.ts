// How far the seed moves the KD-quality benchmark's goal ratio (bench/distill.ts, row 3 against
// row 1): the same CE (α = 0) and offline adaptive p=0.95 KD (α = 0.5, prefix groups) runs,
// budget and evaluation as that benchmark's 1M-token rows, at each seed given. The seed sets the
// initialization and the data order. Each run also records the held-out curve (mean CE per token
// on the first 16,384 tokens of dev.jsonl's text and code documents, taken in turn, every 100
// steps), which shows where a run's dev loss jumps.
// One run per process, so two can share the machine: `--row ce --seed 1`; `--report` prints
// the table of every finished run and puts it in docs/BENCHMARKS.md. Runs live under
// out/bench/distill/seeds/.
// Usage: npx tsx bench/distill-seeds.ts --row ce|kd --seed N [--steps 1000] [--learning-rate 3e-3]
//        npx tsx bench/distill-seeds.ts --report
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateStudent } from '@kd/pipeline';
import { exportModel, loadCheckpoint, train } from '@kd/trainer';
import { adaptiveLabelSet } from './distill-labels.js';
import { student } from './distill.js';
import { machine, repoRoot, sharedDir, table, writeSection } from './report.js';

const { values } = parseArgs({
  options: {
    row: { type: 'string' },
    seed: { type: 'string' },
    steps: { type: 'string', default: '1000' },
    'learning-rate': { type: 'string', default: '3e-3' },
    report: { type: 'boolean', default: false },
  },
});
const benchDir = `${repoRoot}out/bench/distill`;
const seedsDir = join(benchDir, 'seeds');
const devCorpus = `${sharedDir}corpus/dev.jsonl`;

interface SeedResult {
  row: 'ce' | 'kd';
  seed: number;
  steps: number;
  learningRate: number;
  perplexity: number;
  text: number;
  code: number;
  tokens: number;
  /** Held-out mean CE per token at each evaluation: [step, loss]. */
  curve: [number, number][];
}

/** dev.jsonl's text and code documents taken in turn, so the held-out tokens hold both. */
function heldOutFile(): string {
  const path = join(seedsDir, 'dev-text-code.jsonl');
  if (!existsSync(path)) {
    const records = readFileSync(devCorpus, 'utf8').split('\n').filter((line) => line.trim() !== '');
    const of = (task: string) => records.filter((line) => (JSON.parse(line) as { task: string }).task === task);
    const [text, code] = [of('text'), of('code')];
    const mixed: string[] = [];
    for (let i = 0; i < Math.max(text.length, code.length); i++) mixed.push(...(text[i] ? [text[i]!] : []), ...(code[i] ? [code[i]!] : []));
    mkdirSync(seedsDir, { recursive: true });
    writeFileSync(path, `${mixed.join('\n')}\n`);
  }
  return path;
}

async function run(row: 'ce' | 'kd', seed: number, steps: number, learningRate: number): Promise<SeedResult> {
  const name = `${row}-s${seed}-${steps}-lr${learningRate}`;
  const resultPath = join(seedsDir, `${name}.json`);
  if (existsSync(resultPath)) return JSON.parse(readFileSync(resultPath, 'utf8')) as SeedResult;
  const out = join(seedsDir, name);
  const exported = `${out}-export`;
  if (!existsSync(join(exported, 'onnx', 'model.onnx'))) {
    await train(
      {
        objective: 'kd',
        labels: adaptiveLabelSet(join(benchDir, 'labels')),
        teacherTokenizer: `${sharedDir}fixtures/teacher-llama-13m/tokenizer.json`,
        studentTokenizer: `${repoRoot}examples/student-tokenizer/tokenizer.json`,
        out,
        model: student,
        steps,
        batchSize: 8,
        sequenceLength: 128,
        seed,
        learningRate,
        warmupSteps: Math.round(steps / 10),
        checkpointEvery: 100,
        resume: existsSync(join(out, 'checkpoint', 'state.json')),
        threads: 1,
        alpha: row === 'ce' ? 0 : 0.5,
        mapCacheDir: join(benchDir, 'maps'),
        evalCorpus: heldOutFile(),
        evalEvery: 100,
        evalTokens: 16384,
      },
      { onEvaluation: (point) => process.stderr.write(`${name}: step ${point.step}, held-out ${point.loss.toFixed(3)}\n`) },
    );
    await exportModel(out, exported);
  }
  const score = async (tasks: ('text' | 'code')[]) => evaluateStudent({ student: exported, corpus: devCorpus, tasks, limit: 4, threads: 1 });
  const [both, text, code] = [await score(['text', 'code']), await score(['text']), await score(['code'])];
  const { state } = await loadCheckpoint(out);
  const result: SeedResult = {
    row,
    seed,
    steps,
    learningRate,
    perplexity: both.perplexity!,
    text: text.perplexity!,
    code: code.perplexity!,
    tokens: both.tokens,
    curve: (state.evalLosses ?? []).map((point) => [point.step, point.loss]),
  };
  writeFileSync(resultPath, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

function report(): void {
  const results = readdirSync(seedsDir)
    .filter((entry) => entry.endsWith('.json'))
    .map((entry) => JSON.parse(readFileSync(join(seedsDir, entry), 'utf8')) as SeedResult);
  const key = (result: SeedResult) => `${result.seed}-${result.steps}-${result.learningRate}`;
  const pairs = [...new Set(results.map(key))].sort().flatMap((k) => {
    const ce = results.find((result) => result.row === 'ce' && key(result) === k);
    const kd = results.find((result) => result.row === 'kd' && key(result) === k);
    return ce && kd ? [{ ce, kd }] : [];
  });
  const worstJump = (curve: [number, number][]) => Math.max(0, ...curve.slice(1).map(([, loss], i) => loss - curve[i]![1]));
  const rows = pairs.map(({ ce, kd }) => [
    ce.seed,
    ce.learningRate,
    `${ce.perplexity.toFixed(1)} (text ${ce.text.toFixed(1)}, code ${ce.code.toFixed(1)})`,
    `${kd.perplexity.toFixed(1)} (text ${kd.text.toFixed(1)}, code ${kd.code.toFixed(1)})`,
    `${(kd.perplexity / ce.perplexity).toFixed(3)}×`,
    `${worstJump(ce.curve).toFixed(2)} / ${worstJump(kd.curve).toFixed(2)}`,
  ]);
  const header = ['seed', 'peak learning rate', 'CE perplexity', 'KD row 3 perplexity', 'KD / CE', 'largest held-out rise between evaluations, nats (CE / KD)'];
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
  };
  const spread = (values: number[], digits: number) => `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;
  const summaries = [...new Set(pairs.map(({ ce }) => ce.learningRate))].sort((a, b) => b - a).map((learningRate) => {
    const at = pairs.filter(({ ce }) => ce.learningRate === learningRate);
    const ratios = at.map(({ ce, kd }) => kd.perplexity / ce.perplexity);
    return (
      `- peak learning rate ${learningRate}, ${at.length} seed${at.length === 1 ? '' : 's'}: KD / CE median ${median(ratios).toFixed(3)}× (${spread(ratios, 3)}×); ` +
      `CE perplexity ${spread(at.map(({ ce }) => ce.perplexity), 1)}, KD ${spread(at.map(({ kd }) => kd.perplexity), 1)}`
    );
  });
  const steps = pairs[0]?.ce.steps ?? 0;
  const body =
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()} with \`npx tsx bench/distill-seeds.ts --row ce|kd --seed N [--learning-rate LR]\` for each run, then \`--report\`.\n\n` +
    `Rows 1 (CE, α = 0) and 3 (offline adaptive p=0.95, kMax 64, α = 0.5, prefix groups) of "Distillation quality", with its slice, labels, student, schedule and evaluation ` +
    `(${steps} steps × 8 × 128 = ${(steps * 1024).toLocaleString('en-US')} student tokens; perplexity per student token over 4 text and 4 code documents of dev.jsonl), ` +
    'at each seed (the initialization and the data order). The held-out column reads the curve each run records (mean CE per token on the first 16,384 tokens of dev.jsonl\'s text and code documents, every 100 steps): ' +
    'the largest rise from one evaluation to the next, a measure of how far the run jumps.\n\n' +
    `${table(header, rows)}\n\n${summaries.join('\n')}\n`;
  console.log(body);
  writeSection('Distillation quality across seeds', body);
  console.log(JSON.stringify(pairs, null, 2));
}

if (values.report) report();
else {
  if (values.row !== 'ce' && values.row !== 'kd') throw new Error('--row ce or --row kd');
  if (values.seed === undefined) throw new Error('--seed N');
  const result = await run(values.row, Number(values.seed), Number(values.steps), Number(values['learning-rate']));
  console.log(JSON.stringify({ ...result, curve: undefined }));
}
