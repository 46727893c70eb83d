// The distillation-quality benchmark: one student (config, seed, data order, token budget) trained
// on the same slice of the training corpus with each teacher signal — cross-entropy only, the
// compression settings of `kd label`, the tail as a bucket, the byte-prefix mapping, sampled rows —
// and measured on dev.jsonl by `evaluateStudent` (perplexity, bits per byte, KL to the teacher,
// spam/ham accuracy, chrF), beside the labels' bytes per token, the wall time and the step time.
// Row 2 (online full-distribution KD, the upper reference) has no label set: `distillOnline` runs
// the teacher in the loop over the same slice and parts, every probability mapped.
// Every row trains from the same label windows (the cross-entropy row is objective kd with α = 0,
// so it reads exactly the windows the distilled rows read). Label sets, finished runs and their
// evaluations are kept under out/bench/distill/ keyed by their settings: a stopped run resumes
// from its checkpoint and a finished row is not trained again.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, join } from 'node:path';
import { distillOnline, evaluateStudent, type EvaluationResult } from '@kd/pipeline';
import { distillationOptionsShape, exportModel, train, trainOptionsSchema, type TrainOptionsInput } from '@kd/trainer';
import { cutLabelSets, fileHash, labelledSet, labelSettings, shortHash, trainingSlice, type LabelSet } from './distill-labels.js';
import { machine, repoRoot, sharedDir, table, type SectionResult } from './report.js';
import { loadTokenizer } from '@kd/text';
import { buildVocabularyMap } from '@kd/vocab-align';

export interface DistillBenchOptions {
  teacherDir: string;
  trainCorpus: string;
  devCorpus: string;
  studentTokenizer: string;
  /** Cache folder (label sets, runs, evaluations). */
  dir: string;
  /** Train on every n-th record of trainCorpus. */
  every: number;
  steps: number;
  batchSize: number;
  sequenceLength: number;
  /** Text and code documents per task scored for perplexity and bits per byte. */
  evalDocuments: number;
  /** Text and code documents per task for the KL to the teacher (each needs a teacher pass). */
  evalKlDocuments: number;
  /** Classify and translate records per task. */
  evalExamples: number;
  /** Row ids to run (default: all). */
  rows?: string[];
  /** Token positions per label part (every row's data order; the online rows cut the same parts). */
  rowsPerPart: number;
}

type LabelName = keyof typeof labelSettings;

interface RowDefinition {
  id: string;
  title: string;
  /** The label set it trains on, or `online-full`: the teacher in the loop, every probability mapped. */
  labels: LabelName | 'online-full';
  alpha: number;
  tail: 'renormalize' | 'bucket';
  mapping: 'first-piece' | 'byte-prefix';
  /** Omitted: token categories (each student id its own category). */
  categories?: 'prefix-group';
}

/** The rows, in the order they run (the cheap label sets first). */
export const distillRows: RowDefinition[] = [
  { id: 'ce', title: '1. CE only (α = 0)', labels: 'adaptive', alpha: 0, tail: 'renormalize', mapping: 'first-piece' },
  { id: 'online-full', title: '2. online full-distribution KD', labels: 'online-full', alpha: 0.5, tail: 'renormalize', mapping: 'first-piece', categories: 'prefix-group' },
  { id: 'groups', title: '3. offline adaptive p=0.95, kMax 64', labels: 'adaptive', alpha: 0.5, tail: 'renormalize', mapping: 'first-piece', categories: 'prefix-group' },
  { id: 'groups-a0.9', title: '3. same, α = 0.9', labels: 'adaptive', alpha: 0.9, tail: 'renormalize', mapping: 'first-piece', categories: 'prefix-group' },
  { id: 'groups-fixed32', title: '4. offline fixed k=32', labels: 'fixed32', alpha: 0.5, tail: 'renormalize', mapping: 'first-piece', categories: 'prefix-group' },
  { id: 'groups-fixed8', title: '5. offline fixed k=8', labels: 'fixed8', alpha: 0.5, tail: 'renormalize', mapping: 'first-piece', categories: 'prefix-group' },
  { id: 'groups-bucket', title: '6. row 3, tail as a bucket', labels: 'adaptive', alpha: 0.5, tail: 'bucket', mapping: 'first-piece', categories: 'prefix-group' },
  { id: 'groups-byte-prefix', title: '7. row 3, byte-prefix mapping', labels: 'adaptive', alpha: 0.5, tail: 'renormalize', mapping: 'byte-prefix', categories: 'prefix-group' },
  { id: 'groups-sampled', title: '8. offline sampled (12 draws)', labels: 'sampled', alpha: 0.5, tail: 'renormalize', mapping: 'first-piece', categories: 'prefix-group' },
  // The same rows with token categories (each student id its own category): what prefix groups change.
  { id: 'adaptive', title: '3 by token. row 3, token categories', labels: 'adaptive', alpha: 0.5, tail: 'renormalize', mapping: 'first-piece' },
  { id: 'adaptive-a0.9', title: '3 by token. same, α = 0.9', labels: 'adaptive', alpha: 0.9, tail: 'renormalize', mapping: 'first-piece' },
  { id: 'fixed32', title: '4 by token. fixed k=32', labels: 'fixed32', alpha: 0.5, tail: 'renormalize', mapping: 'first-piece' },
  { id: 'fixed8', title: '5 by token. fixed k=8', labels: 'fixed8', alpha: 0.5, tail: 'renormalize', mapping: 'first-piece' },
  { id: 'bucket', title: '6 by token. tail as a bucket', labels: 'adaptive', alpha: 0.5, tail: 'bucket', mapping: 'first-piece' },
  { id: 'byte-prefix', title: '7 by token. byte-prefix mapping', labels: 'adaptive', alpha: 0.5, tail: 'renormalize', mapping: 'byte-prefix' },
  { id: 'sampled', title: '8 by token. sampled (12 draws)', labels: 'sampled', alpha: 0.5, tail: 'renormalize', mapping: 'first-piece' },
];

/** The student every row trains (and the scripts beside this benchmark): ~2.4M parameters on the 8k example tokenizer. */
export const student = { hiddenSize: 192, layers: 2, heads: 4 };
const seed = 0;
/** One intra-op thread: the 2-core machine is shared, and a resumed run must keep its thread count. */
const threads = 1;
/** The trainer's defaults, read from its schema: the run keys and the report name them. */
const shuffleParts: number = distillationOptionsShape.shuffleParts.parse(undefined);
const peakLearningRate: number = trainOptionsSchema.shape.learningRate.parse(undefined);

interface TrainRecord {
  seconds: number;
  steps: number;
  /** Median milliseconds per optimizer step (data preparation included), first two steps left out. */
  stepMs: number;
  finalLoss: number;
  studentTokens: number;
  /** The teacher in the loop (online rows): seconds labelling parts, part visits, and the peak resident memory seen. */
  teacher?: { seconds: number; parts: number; positions: number; peakRssBytes: number };
  parameters: number;
  loadAverage: [number, number];
}

interface RowResult {
  row: RowDefinition;
  /** Absent for the online row. */
  labels?: LabelSet;
  train: TrainRecord;
  scored: EvaluationResult;
  kl: EvaluationResult;
  tasks: EvaluationResult;
  evalSeconds: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function readJson<T>(path: string): T | undefined {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : undefined;
}

function log(line: string): void {
  process.stderr.write(`distill: ${line}\n`);
}

/** Milliseconds per step of each step after the first two (their deltas), from the progress hook. */
function stepTimer(): { onProgress: (progress: { step: number; elapsedSeconds: number }) => void; deltas: number[]; first: number[] } {
  const deltas: number[] = [];
  const first: number[] = [];
  let previous: number | undefined;
  return {
    deltas,
    first,
    onProgress: ({ step, elapsedSeconds }) => {
      const now = elapsedSeconds * 1000;
      if (previous !== undefined && first.length >= 2) deltas.push(now - previous);
      else first.push(now);
      previous = now;
      if (step % 25 === 0) log(`  step ${step}`);
    },
  };
}

function baseTrainOptions(options: DistillBenchOptions, out: string): Omit<TrainOptionsInput, 'objective'> {
  return {
    studentTokenizer: options.studentTokenizer,
    out,
    model: student,
    steps: options.steps,
    batchSize: options.batchSize,
    sequenceLength: options.sequenceLength,
    seed,
    shuffleParts,
    warmupSteps: Math.max(1, Math.round(options.steps / 10)),
    checkpointEvery: Math.max(10, Math.round(options.steps / 4)),
    threads,
  };
}

async function trainRow(options: DistillBenchOptions, row: RowDefinition, labels: LabelSet | undefined, corpus: string, runDir: string): Promise<TrainRecord> {
  const recordPath = join(runDir, 'bench-train.json');
  const kept = readJson<TrainRecord>(recordPath);
  if (kept) return kept;
  const resume = existsSync(join(runDir, 'checkpoint'));
  log(`training ${row.title}${resume ? ' (resuming its checkpoint)' : ''}`);
  const timer = stepTimer();
  let parameters = 0;
  let studentTokens = 0;
  const teacher = { seconds: 0, parts: 0, positions: 0, peakRssBytes: 0 };
  const hooks = {
    onStart: (info: { parameters: number; corpusTokens: number }) => {
      parameters = info.parameters;
      studentTokens = info.corpusTokens;
    },
    onProgress: (progress: { step: number; elapsedSeconds: number }) => {
      timer.onProgress(progress);
      teacher.peakRssBytes = Math.max(teacher.peakRssBytes, process.memoryUsage().rss);
    },
  };
  const common = {
    ...baseTrainOptions(options, runDir),
    objective: 'kd' as const,
    teacherTokenizer: join(options.teacherDir, 'tokenizer.json'),
    mapCacheDir: join(options.dir, 'maps'),
    alpha: row.alpha,
    tail: row.tail,
    mapping: row.mapping,
    categories: row.categories ?? ('token' as const),
    resume,
  };
  const started = performance.now();
  const result = labels
    ? await train({ ...common, labels: labels.dir }, hooks)
    : await distillOnline(
        { ...common, teacher: options.teacherDir, corpus },
        // The same parts as the label sets (rowsPerPart), the teacher on the bench's one thread.
        { compression: { mode: 'full' }, rowsPerPart: options.rowsPerPart, temperature: 1, threads },
        {
          ...hooks,
          onTeacherPart: (part) => {
            teacher.seconds += part.seconds;
            teacher.parts++;
            teacher.positions += part.positions;
            teacher.peakRssBytes = Math.max(teacher.peakRssBytes, process.memoryUsage().rss);
          },
        },
      );
  const record: TrainRecord = {
    seconds: (performance.now() - started) / 1000,
    steps: result.step,
    stepMs: median(timer.deltas),
    finalLoss: result.losses.at(-1)!,
    studentTokens,
    parameters,
    loadAverage: [loadavg()[0]!, loadavg()[2]!],
    ...(labels ? {} : { teacher }),
  };
  writeFileSync(recordPath, `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

async function evaluateRow(options: DistillBenchOptions, runDir: string): Promise<{ scored: EvaluationResult; kl: EvaluationResult; tasks: EvaluationResult; seconds: number }> {
  const recordPath = join(runDir, `bench-eval-${options.evalDocuments}-${options.evalKlDocuments}-${options.evalExamples}.json`);
  const kept = readJson<{ scored: EvaluationResult; kl: EvaluationResult; tasks: EvaluationResult; seconds: number }>(recordPath);
  if (kept) return kept;
  const exported = join(options.dir, 'exports', basename(runDir));
  if (!existsSync(join(exported, 'onnx', 'model.onnx'))) {
    rmSync(exported, { recursive: true, force: true });
    await exportModel(runDir, exported);
  }
  log(`  evaluating ${runDir}`);
  const started = performance.now();
  // The teacher pass of the KL costs far more than the student's scoring: it reads fewer documents.
  const scored = await evaluateStudent({ student: exported, corpus: options.devCorpus, tasks: ['text', 'code'], limit: options.evalDocuments, threads });
  const kl = await evaluateStudent({ student: exported, corpus: options.devCorpus, teacher: options.teacherDir, tasks: ['text', 'code'], limit: options.evalKlDocuments, mapCacheDir: join(options.dir, 'maps'), threads });
  const tasks = await evaluateStudent({ student: exported, corpus: options.devCorpus, tasks: ['classify', 'translate'], limit: options.evalExamples, threads });
  const record = { scored, kl, tasks, seconds: (performance.now() - started) / 1000 };
  writeFileSync(recordPath, `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

export interface StepComparison {
  rounds: number;
  stepsPerRun: number;
  /** Per round: the median step of each run (the first two steps left out). */
  ceMs: number[];
  kdMs: number[];
  /** Per round: the mean step of each run, the same steps (a part loaded in the training thread shows here, not in the median). */
  ceMeanMs: number[];
  kdMeanMs: number[];
  ratio: number;
  loadAverage: { min: number; max: number };
}

/** Where a step comparison of these settings is kept. */
export function stepComparisonPath(options: DistillBenchOptions, corpus: string, labels: LabelSet, rounds: number, stepsPerRun: number): string {
  const key = shortHash({ corpus, labels: labels.dir, rounds, stepsPerRun, student, batchSize: options.batchSize, sequenceLength: options.sequenceLength, threads, shuffleParts, categories: 'prefix-group', means: true });
  return join(options.dir, `steps-${key}.json`);
}

/** The 1M-token measurement of "Distillation quality" (its command's budget), for the scripts beside this benchmark. */
export function distillBenchDefaults(): DistillBenchOptions {
  return {
    teacherDir: `${sharedDir}fixtures/teacher-llama-13m`,
    trainCorpus: `${sharedDir}corpus/train.jsonl`,
    devCorpus: `${sharedDir}corpus/dev.jsonl`,
    studentTokenizer: `${repoRoot}examples/student-tokenizer/tokenizer.json`,
    dir: `${repoRoot}out/bench/distill`,
    every: 20,
    steps: 1000,
    batchSize: 8,
    sequenceLength: 128,
    evalDocuments: 4,
    evalKlDocuments: 2,
    evalExamples: 100,
    rowsPerPart: 8192,
  };
}

/** CE-only (objective ce, its corpus stream) and KD (adaptive labels) steps, alternated in fresh runs. */
export async function compareSteps(options: DistillBenchOptions, corpus: string, labels: LabelSet, rounds: number, stepsPerRun: number): Promise<StepComparison> {
  const recordPath = stepComparisonPath(options, corpus, labels, rounds, stepsPerRun);
  const kept = readJson<StepComparison>(recordPath);
  if (kept) return kept;
  const scratch = join(options.dir, 'step-runs');
  const ceMs: number[] = [];
  const kdMs: number[] = [];
  const ceMeanMs: number[] = [];
  const kdMeanMs: number[] = [];
  const loads: number[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const objective of ['ce', 'kd'] as const) {
      const out = join(scratch, objective);
      rmSync(out, { recursive: true, force: true });
      const timer = stepTimer();
      const base = { ...baseTrainOptions(options, out), steps: stepsPerRun, checkpointEvery: stepsPerRun };
      await train(
        objective === 'ce'
          ? { ...base, objective, corpus }
          : { ...base, objective, labels: labels.dir, teacherTokenizer: join(options.teacherDir, 'tokenizer.json'), mapCacheDir: join(options.dir, 'maps'), alpha: 0.5, categories: 'prefix-group' },
        { onProgress: timer.onProgress },
      );
      (objective === 'ce' ? ceMs : kdMs).push(median(timer.deltas));
      (objective === 'ce' ? ceMeanMs : kdMeanMs).push(timer.deltas.reduce((sum, delta) => sum + delta, 0) / timer.deltas.length);
      loads.push(loadavg()[0]!);
    }
    log(`  step round ${round + 1}: CE ${ceMs.at(-1)!.toFixed(0)} ms, KD ${kdMs.at(-1)!.toFixed(0)} ms (means ${ceMeanMs.at(-1)!.toFixed(0)} / ${kdMeanMs.at(-1)!.toFixed(0)} ms)`);
  }
  rmSync(scratch, { recursive: true, force: true });
  const record: StepComparison = { rounds, stepsPerRun, ceMs, kdMs, ceMeanMs, kdMeanMs, ratio: median(kdMs) / median(ceMs), loadAverage: { min: Math.min(...loads), max: Math.max(...loads) } };
  writeFileSync(recordPath, `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

/** Entries per full-distribution row: the distinct student ids the teacher→student map reaches (the map as the run built and cached it). */
async function mappedStudentIds(options: DistillBenchOptions, mapping: RowDefinition['mapping']): Promise<number> {
  const teacher = await loadTokenizer(join(options.teacherDir, 'tokenizer.json'));
  const map = await buildVocabularyMap(teacher, await loadTokenizer(options.studentTokenizer), { rule: mapping, cacheDir: join(options.dir, 'maps') });
  return new Set(map.teacherToStudent.filter((id) => id >= 0)).size;
}

const fixed = (value: number | null | undefined, digits: number) => (value === null || value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(digits));

function markdownOf(options: DistillBenchOptions, results: RowResult[], steps: StepComparison | undefined, sliceDocuments: number, teacherScored: EvaluationResult | undefined, fullWidth: number | undefined): string {
  const first = results[0];
  const labelled = results.find((result) => result.labels)?.labels;
  const tokensPerStep = options.batchSize * options.sequenceLength;
  const budgetTokens = options.steps * tokensPerStep;
  const ce = results.find((result) => result.row.id === 'ce');
  const adaptive = results.filter((result) => result.row.labels === 'adaptive' && result.row.tail === 'renormalize' && result.row.mapping === 'first-piece' && result.row.categories === 'prefix-group' && result.row.alpha > 0);
  const best = adaptive.reduce<RowResult | undefined>((winner, result) => (!winner || (result.scored.perplexity ?? Infinity) < (winner.scored.perplexity ?? Infinity) ? result : winner), undefined);
  const rows = results.map((result) => [
    result.row.title,
    fixed(result.scored.perplexity, 1),
    ce?.scored.perplexity ? `${fixed(result.scored.perplexity! / ce.scored.perplexity, 3)}×` : '—',
    fixed(result.scored.bitsPerByte, 3),
    fixed(result.kl.klToTeacher, 3),
    result.tasks.spamAccuracy === null ? '—' : `${(result.tasks.spamAccuracy * 100).toFixed(1)}%`,
    fixed(result.tasks.chrF, 1),
    result.row.id === 'ce' ? '— (reads the windows only)' : result.labels ? fixed(result.labels.stats.bytesPerToken, 1) : '— (teacher in the loop)',
    fixed(result.train.seconds, 0),
    fixed(result.train.stepMs, 0),
  ]);
  const lines = [
    `Budget of this run: ${options.steps} steps × ${options.batchSize} windows × ${options.sequenceLength} tokens = ${budgetTokens.toLocaleString('en-US')} student tokens per row ` +
      (budgetTokens >= 1_000_000 ? '(the issue aims for ≥ 1M). ' : `(the issue asks for ≥ 1M; this measurement cut every row to the same smaller budget). `) +
      `Training data: every ${options.every}th record of \`../shared/corpus/train.jsonl\` (${sliceDocuments} documents, ${first ? first.train.studentTokens.toLocaleString('en-US') : '?'} student tokens, ${labelled ? labelled.stats.tokens.toLocaleString('en-US') : '?'} teacher tokens), so the budget is about ${first ? fixed(budgetTokens / first.train.studentTokens, 2) : '?'} epochs. ` +
      (budgetTokens >= 1_000_000 ? '' : `A 1M-token run is \`pnpm bench --only distill --distill-every 20 --distill-steps 1000\`.`),
    '',
    `Student: ${first ? (first.train.parameters / 1e6).toFixed(2) : '?'}M parameters (hidden ${student.hiddenSize}, ${student.layers} layers, ${student.heads} heads) on the 8k byte-level BPE of \`examples/student-tokenizer\`; teacher \`teacher-llama-13m\` (32k vocabulary). ` +
      `Same seed (${seed}), learning rate schedule (${peakLearningRate} peak, ${Math.max(1, Math.round(options.steps / 10))} warmup steps, cosine), and windows for every row: each row reads the same label windows in the same seeded order, and the CE row is objective kd with α = 0 (hard labels only). The windows of ${shuffleParts} parts at a time are shuffled together (\`shuffleParts\`, the trainer's default). ` +
      `τ = 1, forward KL, first-piece mapping and prefix-group categories (the default) unless the row says otherwise; α = 0.5 unless it says otherwise. One onnxruntime thread per run.`,
    '',
    `Evaluation (\`evaluateStudent\` of @kd/pipeline on \`../shared/corpus/dev.jsonl\`, documents spread evenly over the file): perplexity per student token and bits per UTF-8 byte over ${options.evalDocuments} text and ${options.evalDocuments} code documents` +
      `${first ? ` (${first.scored.tokens.toLocaleString('en-US')} student tokens)` : ''}; ` +
      `KL(teacher‖student) (mean nats over aligned positions, the teacher's full softmax mapped first-piece onto the student vocabulary) over ${options.evalKlDocuments} text and ${options.evalKlDocuments} code document(s)` +
      `${first ? ` (${first.kl.klPositions.toLocaleString('en-US')} aligned positions, ${fixed((first.kl.alignedFraction ?? 0) * 100, 1)}% of the scored ones)` : ''}, fewer because each needs a teacher pass; ` +
      `spam/ham accuracy over ${first?.tasks.classifyExamples ?? options.evalExamples} classify records and chrF over ${first?.tasks.translateExamples ?? options.evalExamples} greedy EN→DE translations.` +
      (teacherScored ? ` The teacher on the perplexity documents: ${fixed(teacherScored.perplexity, 1)} perplexity per teacher token, ${fixed(teacherScored.bitsPerByte, 3)} bits per byte.` : ''),
    '',
    table(['row', 'perplexity', 'vs CE', 'bits/byte', 'KL to teacher', 'spam/ham', 'chrF', 'label bytes/token', 'train wall s', 'ms/step'], rows),
  ];
  const row2 = results.find((result) => result.row.id === 'online-full');
  const row3 = results.find((result) => result.row.id === 'groups');
  const meanStepMs = (result: RowResult) => (result.train.seconds * 1000) / result.train.steps;
  if (row2?.train.teacher) {
    const teacher = row2.train.teacher;
    lines.push(
      '',
      `Row 2 is objective kd (α = 0.5, τ = 1, forward KL, first-piece mapping, prefix groups) through \`distillOnline\` with compression mode full: every probability of the teacher's softmax at τ mapped onto the student vocabulary` +
        `${fullWidth ? ` (${fullWidth.toLocaleString('en-US')} entries per position, one per distinct student id the map reaches, of the teacher's 32,000)` : ''}, nothing selected or quantized, ` +
        `on the same slice, parts (${options.rowsPerPart.toLocaleString('en-US')} token positions each), seed, student and steps as the label rows. ` +
        `Its train wall time includes the teacher in the loop: ${teacher.seconds.toFixed(1)} s labelling ${teacher.parts} part visit(s) (${teacher.positions.toLocaleString('en-US')} positions), ${((teacher.seconds * 1000) / row2.train.steps).toFixed(0)} ms per step averaged over its ${row2.train.steps} steps. ` +
        `Its ms/step column is the median step, which leaves out the steps that wait for a part; averaged over the whole run a step took ${meanStepMs(row2).toFixed(0)} ms` +
        `${row3 ? ` against row 3's ${meanStepMs(row3).toFixed(0)} ms (${(meanStepMs(row2) / meanStepMs(row3)).toFixed(2)}×, offline labels read from disk)` : ''}. ` +
        `Peak resident memory of the benchmark process during row 2: ${(teacher.peakRssBytes / 2 ** 30).toFixed(2)} GiB (the mapped rows of a group's ${shuffleParts} parts, and one more, are held while the group's windows are read: ${options.rowsPerPart.toLocaleString('en-US')} positions × ${fullWidth ? fullWidth.toLocaleString('en-US') : 'every mapped'} entries a part).`,
    );
  }
  const labelPasses = new Map<string, { seconds: number; sets: string[] }>();
  for (const result of results) {
    if (!result.labels) continue;
    const pass = labelPasses.get(result.labels.pass) ?? { seconds: result.labels.seconds, sets: [] };
    if (!pass.sets.includes(result.labels.name)) pass.sets.push(result.labels.name);
    labelPasses.set(result.labels.pass, pass);
  }
  const formats = new Set(results.flatMap((result) => (result.labels ? [result.labels] : [])).map((labels) => {
    const manifest = readJson<{ formatVersion: number; idPacking: string; quantization: string }>(join(labels.dir, 'manifest.json'));
    return manifest ? `format ${manifest.formatVersion} (${manifest.quantization} probabilities, ${manifest.idPacking} ids)` : 'an unknown format';
  }));
  const byToken = results.filter((result) => result.row.alpha > 0 && !result.row.categories && result.labels);
  if (byToken.length > 0 && results.some((result) => result.row.categories === 'prefix-group')) {
    lines.push(
      '',
      `Rows 3–8 compare the teacher and the student per prefix group (\`categories: 'prefix-group'\`, the default: see "Distillation across tokenizers: diagnostics" below); the rows marked "by token" are the same runs with each student id its own category (\`categories: 'token'\`). One seed per row: how far a second seed would move a row is not measured, so differences of a few percent between rows are not a ranking.`,
    );
  }
  lines.push('', `Label bytes per token are those of the stored sets, codec ${[...formats].join(' and ')}; a cached set is reused as it is, so the figure is that of the format the set was written in.`);
  lines.push('', `Labelling wall time (once per set, not in the rows' train time): ${[...labelPasses.entries()].map(([pass, { seconds, sets }]) => `${sets.join(', ')}: ${seconds.toFixed(0)} s (${pass})`).join('; ')}.`);
  const goals: string[] = [];
  if (ce?.scored.perplexity && row3?.scored.perplexity) {
    const ratio = row3.scored.perplexity / ce.scored.perplexity;
    goals.push(`row 3 perplexity ≤ 0.75 × row 1: ${ratio.toFixed(3)}× at α = 0.5 — ${ratio <= 0.75 ? 'met' : 'missed'}` + (best && best !== row3 && best.scored.perplexity ? `; best α on row 3 (${best.row.alpha}): ${(best.scored.perplexity / ce.scored.perplexity).toFixed(3)}× — ${best.scored.perplexity / ce.scored.perplexity <= 0.75 ? 'met' : 'missed'}` : ''));
  }
  if (row2?.scored.perplexity && row3?.scored.perplexity) {
    const ratio = row3.scored.perplexity / row2.scored.perplexity;
    goals.push(`row 3 perplexity within 3% of row 2: ${fixed(row3.scored.perplexity, 2)} vs ${fixed(row2.scored.perplexity, 2)} = ${ratio.toFixed(3)}× — ${ratio <= 1.03 ? 'met' : 'missed'}`);
  } else {
    goals.push(`row 3 within 3% of row 2: not assessed (${row2 ? 'row 3' : 'row 2'} not run in this measurement)`);
  }
  if (steps) {
    // The mean step counts what the median leaves out (a step that waits for a part); the verdict takes the worse of the two.
    const meanRatio = median(steps.kdMeanMs) / median(steps.ceMeanMs);
    const worse = Math.max(steps.ratio, meanRatio);
    goals.push(
      `KD step ≤ 1.15 × CE step, data loading included: median step KD ${median(steps.kdMs).toFixed(0)} ms vs CE ${median(steps.ceMs).toFixed(0)} ms = ${steps.ratio.toFixed(2)}×, mean step ${median(steps.kdMeanMs).toFixed(0)} vs ${median(steps.ceMeanMs).toFixed(0)} ms = ${meanRatio.toFixed(2)}× — ${worse <= 1.15 ? 'met' : 'missed'} ` +
        `(median over ${steps.rounds} alternated rounds of fresh ${steps.stepsPerRun}-step runs, first two steps of each left out; CE is objective ce on the slice's own token stream, KD the adaptive labels at α = 0.5 with prefix groups; 1-minute load average ${steps.loadAverage.min.toFixed(1)}–${steps.loadAverage.max.toFixed(1)} on 2 cores; the rounds' KD / CE: ${steps.kdMs.map((kd, round) => `${(kd / steps.ceMs[round]!).toFixed(2)}×`).join(', ')}` +
        `${Math.max(...steps.kdMs.map((kd, round) => kd / steps.ceMs[round]!)) - Math.min(...steps.kdMs.map((kd, round) => kd / steps.ceMs[round]!)) > 0.2 ? ', a spread too wide under this load for the verdict to hold more than this one measurement' : ''})`,
    );
  }
  const skipped = distillRows.filter((row) => !results.some((result) => result.row.id === row.id));
  if (skipped.length > 0) lines.push('', `Not run in this measurement (left out with \`--distill-rows\`): ${skipped.map((row) => row.title).join('; ')}.`);
  lines.push('', 'Goals:', '', ...goals.map((goal) => `- ${goal}`));
  const distilled = results.filter((result) => result.row.alpha > 0 && result.scored.perplexity !== null);
  const worse = distilled.filter((result) => ce?.scored.perplexity && result.scored.perplexity! > ce.scored.perplexity);
  const closer = distilled.filter((result) => ce?.kl.klToTeacher !== undefined && ce.kl.klToTeacher !== null && result.kl.klToTeacher !== null && result.kl.klToTeacher < ce.kl.klToTeacher);
  if (ce?.scored.perplexity && distilled.length > 0 && worse.length === distilled.length) {
    lines.push('', `At this budget every distilled row has a higher perplexity than the CE row (${worse.map((result) => `${result.row.id} ${fixed(result.scored.perplexity! / ce.scored.perplexity!, 3)}×`).join(', ')}), while ${closer.length} of ${distilled.length} are closer to the teacher in KL: the students move toward the teacher's distribution but pay for it on their own tokens.`);
  }
  if (budgetTokens < 1_000_000 && ce?.scored.perplexity && row3?.scored.perplexity && row3.scored.perplexity / ce.scored.perplexity > 0.75) {
    lines.push('', `Why the perplexity goal is missed here: at ${budgetTokens.toLocaleString('en-US')} tokens per row the students are early in training (the CE row's perplexity is ${ce.scored.perplexity.toFixed(0)} against the teacher's ${teacherScored?.perplexity?.toFixed(0) ?? '?'} per its own token), where the hard label still dominates what a student can learn; the issue's reference gains were measured at about 1.2M tokens per row. Whether the gap opens with the budget is what the 1M-token command above measures.`);
  }
  const accuracies = new Set(results.map((result) => result.tasks.spamAccuracy));
  if (results.length > 1 && accuracies.size === 1) lines.push('', `Spam/ham accuracy is the same in every row (${((results[0]!.tasks.spamAccuracy ?? 0) * 100).toFixed(1)}%), which suggests that at this budget no student separates the labels yet, and chrF of greedy translations stays near zero; these two columns only become informative with a larger budget.`);
  lines.push('', `The machine was shared with other work throughout (1-minute load average at the end of each row: ${results.map((result) => result.train.loadAverage[0].toFixed(1)).join(', ')}), so wall times and ms/step are inflated and only the step ratio, measured alternated in one window, compares speeds; the rows' quality figures do not depend on the load.`);
  return lines.join('\n');
}

export async function benchDistill(options: DistillBenchOptions): Promise<Omit<SectionResult, 'command'>> {
  mkdirSync(options.dir, { recursive: true });
  const slice = trainingSlice(options.trainCorpus, options.every, options.dir);
  const inputs = { teacherDir: options.teacherDir, corpus: slice, dir: join(options.dir, 'labels'), rowsPerPart: options.rowsPerPart, log };
  const chosen = distillRows.filter((row) => !options.rows || options.rows.includes(row.id));
  const unknown = options.rows?.filter((id) => !distillRows.some((row) => row.id === id)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown distill rows ${unknown.join(', ')}; known: ${distillRows.map((row) => row.id).join(', ')}`);
  const labelSet = async (name: LabelName): Promise<LabelSet> => {
    if (name === 'sampled') return labelledSet(inputs, labelSettings.sampled.name, labelSettings.sampled.spec);
    const sets = await cutLabelSets(inputs, [labelSettings.adaptive, labelSettings.fixed32, labelSettings.fixed8]);
    return sets.find((set) => set.name === labelSettings[name].name)!;
  };
  const settingsKey = { slice: slice.sha256, steps: options.steps, batchSize: options.batchSize, sequenceLength: options.sequenceLength, student, seed, threads, shuffleParts };
  const results: RowResult[] = [];
  let steps: StepComparison | undefined;
  const teacherKey = fileHash(join(options.teacherDir, 'model.onnx')).slice(0, 16);
  let fullWidth: number | undefined;
  for (const row of chosen) {
    const labels = row.labels === 'online-full' ? undefined : await labelSet(row.labels);
    const source = labels ? { labels: labels.dir } : { online: 'full', teacher: teacherKey, rowsPerPart: options.rowsPerPart };
    const runDir = join(options.dir, 'runs', `${row.id}-${shortHash({ ...settingsKey, ...source, alpha: row.alpha, tail: row.tail, mapping: row.mapping, ...(row.categories ? { categories: row.categories } : {}) })}`);
    const trained = await trainRow(options, row, labels, slice.path, runDir);
    if (!labels) fullWidth = await mappedStudentIds(options, row.mapping);
    const evaluated = await evaluateRow(options, runDir);
    results.push({ row, labels, train: trained, scored: evaluated.scored, kl: evaluated.kl, tasks: evaluated.tasks, evalSeconds: evaluated.seconds });
    log(`${row.title}: perplexity ${fixed(evaluated.scored.perplexity, 2)}, KL ${fixed(evaluated.kl.klToTeacher, 3)}, ${trained.seconds.toFixed(0)} s`);
    if (row.id === 'groups' && labels) steps = await compareSteps(options, slice.path, labels, 3, 40);
  }
  const teacherPath = join(options.dir, `teacher-eval-${options.evalDocuments}.json`);
  let teacherScored = readJson<EvaluationResult>(teacherPath);
  if (!teacherScored) {
    teacherScored = await evaluateStudent({ student: options.teacherDir, corpus: options.devCorpus, tasks: ['text', 'code'], limit: options.evalDocuments, threads });
    writeFileSync(teacherPath, `${JSON.stringify(teacherScored, null, 2)}\n`);
  }
  const data = {
    budget: { every: options.every, steps: options.steps, batchSize: options.batchSize, sequenceLength: options.sequenceLength, evalDocuments: options.evalDocuments, evalKlDocuments: options.evalKlDocuments, evalExamples: options.evalExamples, rowsPerPart: options.rowsPerPart },
    student,
    rows: results.map((result) => ({ id: result.row.id, title: result.row.title, alpha: result.row.alpha, tail: result.row.tail, mapping: result.row.mapping, categories: result.row.categories ?? 'token', labels: result.labels ? { name: result.labels.name, ...result.labels.stats, labelSeconds: result.labels.seconds } : null, train: result.train, eval: { ...result.scored, klToTeacher: result.kl.klToTeacher, klPositions: result.kl.klPositions, alignedFraction: result.kl.alignedFraction, mappedMass: result.kl.mappedMass, spamAccuracy: result.tasks.spamAccuracy, chrF: result.tasks.chrF, classifyExamples: result.tasks.classifyExamples, translateExamples: result.tasks.translateExamples }, evalSeconds: result.evalSeconds })),
    fullDistributionWidth: fullWidth ?? null,
    steps: steps ?? null,
    teacher: teacherScored,
  };
  return { title: 'Distillation quality', date: new Date().toISOString().slice(0, 10), machine: machine(), markdown: markdownOf(options, results, steps, slice.documents, teacherScored, fullWidth), data };
}
