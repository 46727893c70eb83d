// How far the seed moves the KD-quality benchmark's goals (bench/distill.ts, row 3 against rows 1
// and 2): the same CE (α = 0), offline adaptive p=0.95 KD (α = 0.5, prefix groups) and online
// full-distribution KD (row 2: the teacher in the loop, every probability mapped) runs, budget
// and evaluation as that benchmark's 1M-token rows, at each seed given. The seed sets the
// initialization and the data order. Each run also records the held-out curve (mean CE per token
// on the first 16,384 tokens of dev.jsonl's text and code documents, taken in turn, every 100
// steps), which shows where a run's dev loss jumps.
// One run per process, so two can share the machine: `--row ce --seed 1`; `--report` prints
// the table of every finished run and puts it in docs/BENCHMARKS.md. Runs live under
// out/bench/distill/seeds/; `--report` keeps each finished run's figures in
// docs/bench-results.json too, so the table survives a fresh checkout and a later report adds
// to it.
// The label set is made on first use (one teacher pass, as the benchmark's).
// Usage: npx tsx bench/distill-seeds.ts --row ce|kd|full|online|float --seed N [--steps 1000] [--learning-rate 3e-3] [--alpha 0.5] [--divergence forward-kl|reverse-kl|jsd] [--temperature T (rows in the loop)] [--shuffle-parts G (the trainer's default)]
//        npx tsx bench/distill-seeds.ts --report
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { distillOnline, evaluateStudent } from '@kd/pipeline';
import { distillationOptionsShape, exportModel, loadCheckpoint, train } from '@kd/trainer';
import { cutLabelSets, labelSettings, trainingSlice } from './distill-labels.js';
import { student } from './distill.js';
import { loadResults, machine, repoRoot, saveResults, sharedDir, table } from './report.js';

const { values } = parseArgs({
  options: {
    row: { type: 'string' },
    seed: { type: 'string' },
    steps: { type: 'string', default: '1000' },
    'learning-rate': { type: 'string', default: '3e-3' },
    alpha: { type: 'string', default: '0.5' },
    // Default: the trainer's own default.
    divergence: { type: 'string', default: distillationOptionsShape.divergence.parse(undefined) },
    // τ of teacher and student; rows in the loop only (a label set's τ was fixed when it was made). Default: the trainer's.
    temperature: { type: 'string', default: String(distillationOptionsShape.temperature.parse(undefined)) },
    // Default: the trainer's own default.
    'shuffle-parts': { type: 'string', default: String(distillationOptionsShape.shuffleParts.parse(undefined)) },
    report: { type: 'boolean', default: false },
  },
});
const benchDir = `${repoRoot}out/bench/distill`;
const seedsDir = join(benchDir, 'seeds');
const devCorpus = `${sharedDir}corpus/dev.jsonl`;
const teacherDir = `${sharedDir}fixtures/teacher-llama-13m`;
// The benchmark's slice and parts: every 20th training record, 8,192 positions per part.
const rowsPerPart = 8192;
const slice = trainingSlice(`${sharedDir}corpus/train.jsonl`, 20, benchDir);
// online and float: row 3's selection made by the teacher in the loop, through the quantization
// round trip its stored labels have (online) or keeping the teacher's float32 rows (float), so
// that row 3 against row 2 splits into what storing costs and what selecting costs.
type Row = 'ce' | 'kd' | 'full' | 'online' | 'float';
type Divergence = ReturnType<typeof distillationOptionsShape.divergence.parse>;
const defaultDivergence: Divergence = distillationOptionsShape.divergence.parse(undefined);
const defaultTemperature: number = distillationOptionsShape.temperature.parse(undefined);
const rowNames: Record<Row, string> = {
  ce: 'CE',
  kd: 'KD row 3',
  full: 'KD row 2 (online full)',
  online: 'KD row 3 in the loop (quantized as stored)',
  float: 'KD row 3 in the loop, float32 rows',
};

interface SeedResult {
  row: Row;
  seed: number;
  steps: number;
  learningRate: number;
  /** The KD weight (0 for CE); runs recorded before it was a choice are 0.5. */
  alpha?: number;
  /** Parts whose windows are shuffled together; runs recorded before it was a choice are 1. */
  shuffleParts?: number;
  /** D in the teacher term; runs recorded before it was a choice are forward KL. */
  divergence?: Divergence;
  /** τ of teacher and student; runs recorded before it was a choice are 1. */
  temperature?: number;
  perplexity: number;
  text: number;
  code: number;
  tokens: number;
  /** Held-out mean CE per token at each evaluation: [step, loss]. */
  curve?: [number, number][];
  /** The largest rise of the held-out curve between evaluations, for runs kept without their curve. */
  largestRise?: number;
  /** The day the run was measured (runs recorded before it was kept: the day of their report). */
  measured?: string;
}

/** A run's name: its file under out/bench/distill/seeds/ and its key in bench-results.json. */
function runName(row: Row, seed: number, steps: number, learningRate: number, alpha: number, shuffleParts: number, divergence: Divergence, temperature: number): string {
  const kd = row !== 'ce';
  const variant = `${kd && alpha !== 0.5 ? `-a${alpha}` : ''}${kd && divergence !== defaultDivergence ? `-${divergence}` : ''}${kd && temperature !== defaultTemperature ? `-t${temperature}` : ''}`;
  return `${row}-s${seed}-${steps}-lr${learningRate}${variant}${shuffleParts !== 1 ? `-g${shuffleParts}` : ''}`;
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

/** The adaptive p=0.95 set of the benchmark (cut with its fixed-k sets from one teacher pass when missing). */
async function adaptiveLabels(): Promise<string> {
  const inputs = { teacherDir, corpus: slice, dir: join(benchDir, 'labels'), rowsPerPart, log: (line: string) => process.stderr.write(`${line}\n`) };
  const sets = await cutLabelSets(inputs, [labelSettings.adaptive, labelSettings.fixed32, labelSettings.fixed8]);
  return sets[0]!.dir;
}

async function run(row: Row, seed: number, steps: number, learningRate: number, kdAlpha: number, shuffleParts: number, divergence: Divergence, temperature: number): Promise<SeedResult> {
  const alpha = row === 'ce' ? 0 : kdAlpha;
  if (temperature !== defaultTemperature && (row === 'ce' || row === 'kd')) throw new Error('--temperature other than 1 needs a row in the loop (online, float, full): the label set was made at τ = 1');
  const name = runName(row, seed, steps, learningRate, alpha, shuffleParts, divergence, temperature);
  const resultPath = join(seedsDir, `${name}.json`);
  if (existsSync(resultPath)) return JSON.parse(readFileSync(resultPath, 'utf8')) as SeedResult;
  const out = join(seedsDir, name);
  const exported = `${out}-export`;
  if (!existsSync(join(exported, 'onnx', 'model.onnx'))) {
    const options = {
      objective: 'kd' as const,
      teacherTokenizer: `${teacherDir}/tokenizer.json`,
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
      alpha,
      divergence,
      temperature,
      shuffleParts,
      mapCacheDir: join(benchDir, 'maps'),
      evalCorpus: heldOutFile(),
      evalEvery: 100,
      evalTokens: 16384,
    };
    const hooks = {
      onEvaluation: (point: { step: number; loss: number }) => process.stderr.write(`${name}: step ${point.step}, held-out ${point.loss.toFixed(3)}\n`),
      onTeacherPart: (part: { index: number; positions: number; seconds: number }) => process.stderr.write(`${name}: teacher part ${part.index}, ${part.positions} positions, ${part.seconds.toFixed(1)} s\n`),
    };
    if (row === 'full' || row === 'online' || row === 'float') {
      // Rows in the loop read the slice itself, in the label set's parts, so their windows and order are row 3's.
      const compression = row === 'full' ? ({ mode: 'full' } as const) : labelSettings.adaptive.spec;
      await distillOnline({ ...options, teacher: teacherDir, corpus: slice.path }, { compression, ...(row === 'float' ? { quantization: 'none' as const } : {}), rowsPerPart, temperature, threads: 1 }, hooks);
    } else {
      await train({ ...options, labels: await adaptiveLabels() }, hooks);
    }
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
    alpha,
    shuffleParts,
    divergence,
    temperature,
    perplexity: both.perplexity!,
    text: text.perplexity!,
    code: code.perplexity!,
    tokens: both.tokens,
    curve: (state.evalLosses ?? []).map((point) => [point.step, point.loss]),
    measured: new Date().toISOString().slice(0, 10),
  };
  writeFileSync(resultPath, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

const sectionKey = 'seeds';
const sectionTitle = 'Distillation quality across seeds';

/** Every run kept in bench-results.json, with the finished runs of out/bench/distill/seeds/ added (a run there replaces its kept figures). */
function keptRuns(): { saved: ReturnType<typeof loadResults>; runs: Record<string, SeedResult> } {
  const saved = loadResults();
  const runs = { ...((saved[sectionKey]?.data as { runs?: Record<string, SeedResult> } | undefined)?.runs ?? {}) };
  const files = existsSync(seedsDir) ? readdirSync(seedsDir).filter((entry) => entry.endsWith('.json')) : [];
  for (const entry of files) {
    const path = join(seedsDir, entry);
    const result = JSON.parse(readFileSync(path, 'utf8')) as SeedResult;
    runs[entry.slice(0, -'.json'.length)] = { ...result, measured: result.measured ?? statSync(path).mtime.toISOString().slice(0, 10) };
  }
  return { saved, runs };
}

function report(): void {
  const { saved, runs } = keptRuns();
  const results = Object.values(runs).map((result) => ({ ...result, alpha: result.alpha ?? (result.row === 'ce' ? 0 : 0.5), shuffleParts: result.shuffleParts ?? 1, divergence: result.divergence ?? defaultDivergence, temperature: result.temperature ?? defaultTemperature }));
  const key = (result: SeedResult) => `${result.shuffleParts}-${result.learningRate}-${result.seed}-${result.steps}`;
  const rowOrder = ['kd', 'online', 'float', 'full'] as Row[];
  // The KD runs beside CE: each row, τ, α and divergence measured, row 3 first, then by τ, α and the trainer's order of divergences.
  const divergenceOrder: readonly Divergence[] = distillationOptionsShape.divergence.unwrap().options;
  type Variant = Pick<SeedResult, 'row'> & Required<Pick<SeedResult, 'alpha' | 'divergence' | 'temperature'>>;
  const variantKey = ({ row, alpha, divergence, temperature }: Variant) => `${row} ${alpha} ${divergence} ${temperature}`;
  const variants = [...new Map(results.filter((result) => result.row !== 'ce').map(({ row, alpha, divergence, temperature }) => [variantKey({ row, alpha, divergence, temperature }), { row, alpha, divergence, temperature }])).values()]
    .sort((a, b) => rowOrder.indexOf(a.row) - rowOrder.indexOf(b.row) || a.temperature - b.temperature || a.alpha - b.alpha || divergenceOrder.indexOf(a.divergence) - divergenceOrder.indexOf(b.divergence));
  const variantName = ({ row, alpha, divergence, temperature }: Variant) =>
    `${rowNames[row]}, α ${alpha}${divergence === defaultDivergence ? '' : `, ${divergence}`}${temperature === defaultTemperature ? '' : `, τ ${temperature}`}`;
  const sets = [...new Set(results.map(key))].sort().flatMap((k) => {
    const ce = results.find((result) => result.row === 'ce' && key(result) === k);
    const kd = variants.map((variant) => results.find((result) => variantKey(result) === variantKey(variant) && key(result) === k));
    return ce && kd.some((result) => result) ? [{ ce, kd }] : [];
  });
  // Runs kept without their curve carry the figure their report printed.
  const worstJump = ({ curve, largestRise }: SeedResult) => curve ? Math.max(0, ...curve.slice(1).map(([, loss], i) => loss - curve[i]![1])) : largestRise!;
  const perplexity = (result: SeedResult) => `${result.perplexity.toFixed(1)} (text ${result.text.toFixed(1)}, code ${result.code.toFixed(1)})`;
  const at05 = (row: Row) => variants.findIndex((variant) => variant.row === row && variant.alpha === 0.5 && variant.divergence === defaultDivergence && variant.temperature === defaultTemperature);
  // Runs set beside each other at α 0.5: row 3 against row 2, and the rows in the loop against both.
  const pairs: [Row, Row, string][] = [
    ['kd', 'full', 'row 3 / row 2'],
    ['online', 'kd', 'row 3 in the loop (quantized as stored) / row 3'],
    ['float', 'kd', 'row 3 in the loop with float32 rows / row 3'],
    ['float', 'full', 'row 3 in the loop with float32 rows / row 2'],
  ];
  // One line per run: CE, then each KD run of the same setting and seed beside it.
  const rows = sets.flatMap(({ ce, kd }) => [
    [ce.shuffleParts, ce.learningRate, ce.seed, 'CE (α 0)', perplexity(ce), '1.000×', worstJump(ce).toFixed(2)],
    ...variants.flatMap((variant, i) => {
      const result = kd[i];
      return result ? [[ce.shuffleParts, ce.learningRate, ce.seed, variantName(variant), perplexity(result), `${(result.perplexity / ce.perplexity).toFixed(3)}×`, worstJump(result).toFixed(2)]] : [];
    }),
  ]);
  const header = ['parts shuffled together', 'peak learning rate', 'seed', 'run', 'perplexity', '/ CE of the seed', 'largest held-out rise between evaluations, nats'];
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
  };
  const spread = (values: number[], digits: number) => (values.length === 1 ? values[0]!.toFixed(digits) : `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`);
  const ratio = (values: number[]) => (values.length === 1 ? `${values[0]!.toFixed(3)}×` : `median ${median(values).toFixed(3)}× (${spread(values, 3)}×)`);
  const plural = (n: number) => `${n} seed${n === 1 ? '' : 's'}`;
  const settings = [...new Set(sets.map(({ ce }) => `${ce.shuffleParts} ${ce.learningRate}`))].map((setting) => setting.split(' ').map(Number) as [number, number]);
  const summaries = settings.sort((a, b) => a[0] - b[0] || b[1] - a[1]).flatMap(([shuffleParts, learningRate]) => {
    const at = sets.filter(({ ce }) => ce.learningRate === learningRate && ce.shuffleParts === shuffleParts);
    const setting = `${shuffleParts === 1 ? 'one part at a time' : `${shuffleParts} parts shuffled together`}, peak learning rate ${learningRate}`;
    const lines = variants.flatMap((variant, i) => {
      const measured = at.flatMap(({ ce, kd }) => (kd[i] ? [{ ce, kd: kd[i]! }] : []));
      if (measured.length === 0) return [];
      return [
        `- ${setting}, ${variantName(variant)}, ${plural(measured.length)}: / CE ${ratio(measured.map(({ ce, kd }) => kd.perplexity / ce.perplexity))}; ` +
          `CE perplexity ${spread(measured.map(({ ce }) => ce.perplexity), 1)}, KD ${spread(measured.map(({ kd }) => kd.perplexity), 1)}`,
      ];
    });
    for (const [row, against, name] of pairs) {
      const [i, j] = [at05(row), at05(against)];
      const ratios = i >= 0 && j >= 0 ? at.flatMap(({ kd }) => (kd[i] && kd[j] ? [kd[i]!.perplexity / kd[j]!.perplexity] : [])) : [];
      if (ratios.length > 0) lines.push(`- ${setting}, ${name} (α 0.5), ${plural(ratios.length)}: ${ratio(ratios)}`);
    }
    return lines;
  });
  const steps = sets[0]?.ce.steps ?? 0;
  const days = [...new Set(results.map((result) => result.measured ?? ''))].filter((day) => day !== '').sort();
  const body =
    `Rows 1 (CE, α = 0), 2 (online full-distribution KD: the teacher in the loop, its whole softmax mapped onto the student vocabulary) and 3 (offline adaptive p=0.95, kMax 64) of "Distillation quality", prefix groups for every KD row, α 0.5, forward KL and τ 1 (teacher and student) unless the run names another α, divergence D or τ, and row 3's selection made by the teacher in the loop (\`distillOnline\` with compression adaptive p=0.95, kMax 64) through the quantization round trip its stored labels have or with the teacher's float32 rows, which splits row 3 against row 2 into what storing the rows costs and what selecting them costs; with its slice, labels, parts, student, schedule and evaluation ` +
    `(${steps} steps × 8 × 128 = ${(steps * 1024).toLocaleString('en-US')} student tokens; perplexity per student token over 4 text and 4 code documents of dev.jsonl), ` +
    'at each seed (the initialization and the data order) and with the windows of one part (the label set has 8,192 positions a part, and train.jsonl holds its tasks one after another, so a part holds one kind of text) or of G parts shuffled together (`shuffleParts`). ' +
    "The held-out column reads the curve each run records (mean CE per token on the first 16,384 tokens of dev.jsonl's text and code documents, every 100 steps): " +
    'the largest rise from one evaluation to the next, a measure of how far the run jumps.' +
    (results.some((result) => !result.curve)
      ? ` Runs of ${[...new Set(results.filter((result) => !result.curve).map((result) => result.measured))].join(', ')} are kept as that day's report printed them (perplexities to one decimal, the largest rise without its curve), since their run files were not kept, so a ratio of theirs can differ from that report's in the third decimal.`
      : '') +
    '\n\n' +
    `${table(header, rows)}\n\n${summaries.join('\n')}\n`;
  console.log(body);
  saved[sectionKey] = {
    title: sectionTitle,
    command: 'npx tsx bench/distill-seeds.ts --row ce|kd|full|online|float --seed N [--learning-rate LR] [--alpha A] [--divergence D] [--temperature T] [--shuffle-parts G]` for each run, then `--report',
    date: days.length > 1 ? `${days[0]} to ${days.at(-1)}` : (days[0] ?? new Date().toISOString().slice(0, 10)),
    machine: machine(),
    markdown: body,
    data: { runs },
  };
  saveResults(saved, [sectionKey]);
  console.log(JSON.stringify(sets, null, 2));
}

if (values.report) report();
else {
  const row = values.row as Row;
  if (!(row in rowNames)) throw new Error(`--row ${Object.keys(rowNames).join(', ')}`);
  if (values.seed === undefined) throw new Error('--seed N');
  const result = await run(row, Number(values.seed), Number(values.steps), Number(values['learning-rate']), Number(values.alpha), Number(values['shuffle-parts']), values.divergence as Divergence, Number(values.temperature));
  console.log(JSON.stringify({ ...result, curve: undefined }));
}
