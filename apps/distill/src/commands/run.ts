// `kd run --config FILE`: the whole pipeline in one command — label → align → train → export →
// eval → report. The config has one section per stage holding that stage's library options
// (the same keys as `kd label|align|train|export|eval --config`), validated by the same schemas;
// what one stage hands the next (the labels folder, the teacher tokenizer, the run folder, the
// export, the eval corpus as the training run's held-out text) is filled in when the section
// leaves it out. Each stage's time is printed and returned. A rerun skips the stages that finished
// with the same options (recorded in <train.out>/kd-run.json) and resumes an interrupted label
// or train stage from its own resumable state.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { datasetStats, openDataset } from '@kd/codec-parquet';
import { evaluateOptionsSchema, labelOptionsSchema, writeReport, type EvaluationResult, type ReportLabels } from '@kd/pipeline';
import { loadCheckpoint } from '@kd/trainer';
import { defineCommand } from '../define-command.js';
import { CliError } from '../errors.js';
import { alignSchema, runAlign } from './align.js';
import { runEval } from './eval.js';
import { exportCommandSchema, runExport } from './export.js';
import { runLabel } from './label.js';
import { interruptedExitCode, runTrain, trainCommandSchema } from './train.js';

const section = z.record(z.string(), z.unknown());

/** The sections of a run config; each is validated by its stage's own schema once the links are filled in. */
export const runConfigSchema = z
  .object({
    label: section.optional().describe('labelCorpus options (kd label): teacher, corpus, out, compression, …'),
    align: section.optional().describe('kd align options; teacherTokenizer, studentTokenizer and dataset default to the label and train sections'),
    train: section.describe('train options (kd train); with a label section, objective kd on its labels by default'),
    export: section.optional().describe('export options (kd export): out; checkpoint defaults to train.out'),
    eval: section.optional().describe('evaluateStudent options (kd eval); student defaults to export.out, else train.out'),
    report: z.string().min(1).optional().describe('where report.html goes (default: <train.out>/report.html)'),
  })
  .strict();

type Json = Record<string, unknown>;
type StageName = 'label' | 'align' | 'train' | 'export' | 'eval';

const ownSchema = z
  .object({
    json: z.boolean().optional().describe('print the summary as one JSON object on stdout (stage output goes to stderr)'),
  })
  .strict();

function stage<Schema extends z.ZodType>(schema: Schema, value: Json, name: string, configPath: string): z.output<Schema> {
  const parsed = schema.safeParse(value, { reportInput: true });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    throw new CliError('E_CONFIG', `config file ${configPath}: "${name}": unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${[...issue.path, key].join('.')}"`).join(', ')}`);
  }
  const key = [name, ...issue.path.map(String)].join('.');
  const given = 'input' in issue && issue.input !== undefined ? ` (got ${JSON.stringify(issue.input)})` : '';
  throw new CliError('E_CONFIG', `config file ${configPath}: "${key}": ${issue.input === undefined && issue.code === 'invalid_type' ? 'is required' : issue.message}${given}`);
}

/** `83.4 s`, or `2m05s` from two minutes on. */
export function formatSeconds(seconds = 0): string {
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
}

const fingerprint = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

interface RunState {
  stages: Partial<Record<StageName, { fingerprint: string; finishedAt: string }>>;
  eval?: EvaluationResult;
}

function readState(path: string): RunState {
  if (!existsSync(path)) return { stages: {} };
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as RunState;
  } catch {
    return { stages: {} };
  }
}

async function saveState(path: string, state: RunState): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(`${path}.partial`, `${JSON.stringify(state, null, 2)}\n`);
  await rename(`${path}.partial`, path);
}

/** The stages' options, links filled in and each validated by its schema. */
export function planRun(config: Json, configPath: string) {
  const sections = stage(runConfigSchema, config, 'config', configPath);
  const label = sections.label ? stage(labelOptionsSchema, sections.label, 'label', configPath) : undefined;
  const trainInput: Json = { ...sections.train };
  if (label) {
    trainInput.objective ??= 'kd';
    if (trainInput.objective === 'kd' && trainInput.teacher === undefined) {
      trainInput.labels ??= label.out;
      trainInput.teacherTokenizer ??= join(label.teacher, 'tokenizer.json');
    }
  }
  // The eval section's held-out text also gives the training run its eval curve.
  if (sections.eval && typeof sections.eval.corpus === 'string') trainInput.evalCorpus ??= sections.eval.corpus;
  const train = stage(trainCommandSchema, trainInput, 'train', configPath);
  const studentTokenizer = train.studentTokenizer ?? train.tokenizer!;
  const align =
    sections.align && label
      ? stage(alignSchema, { teacherTokenizer: join(label.teacher, 'tokenizer.json'), studentTokenizer, dataset: label.out, ...sections.align }, 'align', configPath)
      : sections.align
        ? stage(alignSchema, { studentTokenizer, ...sections.align }, 'align', configPath)
        : undefined;
  const exporting = sections.export ? stage(exportCommandSchema, { checkpoint: train.out, ...sections.export }, 'export', configPath) : undefined;
  const evaluation = sections.eval ? stage(evaluateOptionsSchema, { student: exporting?.out ?? train.out, ...sections.eval }, 'eval', configPath) : undefined;
  const report = sections.report ?? join(train.out, 'report.html');
  return { label, align, train, export: exporting, eval: evaluation, report };
}

export interface RunSummary {
  stages: Record<StageName, 'done' | 'skipped' | 'absent'>;
  /** Wall-clock seconds of each stage that ran in this invocation. */
  seconds: Partial<Record<StageName, number>>;
  labels?: ReportLabels & { bytesPerToken: number };
  eval?: EvaluationResult;
  finalLoss?: number;
  report: string;
  state: string;
}

async function labelsOf(dir: string): Promise<ReportLabels & { bytesPerToken: number }> {
  const stats = await datasetStats(dir);
  const vocabSize = (await openDataset(dir)).manifest.vocabSize;
  return { tokens: stats.tokens, bytes: stats.bytes, vocabSize, meanKept: stats.meanKept, meanTailMass: stats.meanTailMass, bytesPerToken: stats.bytesPerToken };
}

export async function runPipeline(config: Json, configPath: string, own: { json?: boolean }, log: (line: string) => void = console.log): Promise<RunSummary> {
  const plan = planRun(config, configPath);
  // With --json, stdout carries the one summary document; every stage writes to stderr.
  const note = own.json ? (line: string) => process.stderr.write(`${line}\n`) : log;
  const statePath = join(plan.train.out, 'kd-run.json');
  const state = readState(statePath);
  const order: StageName[] = ['label', 'align', 'train', 'export', 'eval'];
  const present = order.filter((name) => plan[name] !== undefined);
  const stages = Object.fromEntries(order.map((name) => [name, 'absent'])) as RunSummary['stages'];
  // A stage is current when it and every stage before it finished with these options.
  let upstream = '';
  // Once a stage has run, every later stage runs too: its inputs may have changed.
  let ran = false;
  const current = (name: StageName) => {
    upstream = fingerprint([upstream, plan[name]]);
    return upstream;
  };
  const seconds: RunSummary['seconds'] = {};
  let stageStarted = 0;
  const finish = async (name: StageName, print: string) => {
    seconds[name] = (performance.now() - stageStarted) / 1000;
    state.stages[name] = { fingerprint: upstream, finishedAt: new Date().toISOString() };
    await saveState(statePath, state);
    stages[name] = 'done';
    ran = true;
    note(`${print} (${name}: ${formatSeconds(seconds[name])})`);
  };
  const header = (name: StageName) => {
    stageStarted = performance.now();
    note(`\n[${present.indexOf(name) + 1}/${present.length}] ${name}`);
  };
  const skip = (name: StageName, print: string): boolean => {
    const wanted = current(name);
    if (ran || state.stages[name]?.fingerprint !== wanted) return false;
    stages[name] = 'skipped';
    note(`\n[${present.indexOf(name) + 1}/${present.length}] ${name}: finished earlier with these options (${print}); skipped`);
    return true;
  };

  if (plan.label && !skip('label', plan.label.out)) {
    header('label');
    await runLabel({ ...plan.label, teacher: resolve(plan.label.teacher) }, { json: false }, note);
    await finish('label', `labels: ${plan.label.out}`);
  }
  if (plan.align && !skip('align', plan.align.dataset ?? plan.align.studentTokenizer)) {
    header('align');
    await runAlign({ ...plan.align, json: false }, note);
    await finish('align', 'aligned');
  }
  const finishedCheckpoint = join(plan.train.out, 'checkpoint', 'state.json');
  if (!skip('train', plan.train.out)) {
    header('train');
    const resume = existsSync(finishedCheckpoint);
    await runTrain({ ...plan.train, resume: plan.train.resume || resume }, { json: false }, note);
    if (process.exitCode === interruptedExitCode) throw new CliError('E_INTERRUPTED', `training stopped; run kd run --config ${configPath} again to resume it`);
    await finish('train', `run folder: ${plan.train.out}`);
  }
  if (plan.export && !skip('export', plan.export.out)) {
    header('export');
    await runExport({ ...plan.export, overwrite: plan.export.overwrite || existsSync(plan.export.out) }, { json: false }, note);
    await finish('export', `export: ${plan.export.out}`);
  }
  if (plan.eval && !(skip('eval', plan.eval.student) && state.eval)) {
    header('eval');
    state.eval = await runEval(plan.eval, { json: false }, note);
    await finish('eval', `evaluated ${plan.eval.student}`);
  }
  const trained = await loadCheckpoint(plan.train.out);
  trained.model.dispose();
  const { losses, evalLosses } = trained.state;
  const evalTokens = trained.state.settings.evaluation?.tokens;
  const labels = plan.label ? await labelsOf(plan.label.out) : plan.train.labels ? await labelsOf(plan.train.labels) : undefined;
  const report = await writeReport(plan.report, {
    title: `kd run: ${plan.train.out}`,
    losses,
    evalLosses,
    evalTokens: typeof evalTokens === 'number' ? evalTokens : undefined,
    evaluations: state.eval ? [{ name: `student (${plan.train.objective})`, result: state.eval }] : [],
    labels,
    notes: [
      `config ${configPath}`,
      ...(plan.label ? [`teacher ${plan.label.teacher}, labels ${plan.label.out}`] : []),
      `train ${plan.train.objective}, ${plan.train.steps} steps × ${plan.train.batchSize * plan.train.accumulate} windows of ${plan.train.sequenceLength} tokens, seed ${plan.train.seed}`,
      ...(plan.train.evalCorpus ? [`eval curve: cross-entropy per token on the first held-out tokens of ${plan.train.evalCorpus}${plan.train.objective === 'kd' ? ' (the hard-label part of the kd loss)' : ''}`] : []),
      ...(plan.eval ? [`eval on ${plan.eval.corpus}${plan.eval.limit ? `, at most ${plan.eval.limit} per task` : ''}`] : []),
    ],
  });
  note(`\nreport: ${report}`);
  const timed = order.filter((name) => seconds[name] !== undefined);
  if (timed.length > 0) note(`stage times: ${timed.map((name) => `${name} ${formatSeconds(seconds[name])}`).join(' · ')}`);
  const summary: RunSummary = { stages, seconds, ...(labels ? { labels } : {}), ...(state.eval ? { eval: state.eval } : {}), finalLoss: losses.at(-1), report, state: statePath };
  if (own.json) log(JSON.stringify(summary));
  return summary;
}

export function runCommand(): Command {
  return defineCommand({
    name: 'run',
    description: 'Label → align → train → export → eval → report in one command; a rerun skips finished stages and resumes an interrupted one',
    own: ownSchema,
    wholeConfig: true,
    examples: [
      'kd run --config examples/run.json      # {"label": {…kd label options}, "align": {}, "train": {…}, "export": {"out": …}, "eval": {…}}',
      'kd run --config examples/run.json      # again: finished stages are skipped, a stopped label or train stage resumes',
    ],
    run: async (_library, own, _argument, config) => {
      if (!config) throw new CliError('E_USAGE', 'kd run needs --config FILE: a JSON object with one section per stage (label, align, train, export, eval)');
      await runPipeline(config.values, config.path, own);
    },
  });
}
