// `kd eval`: measures a student (an export or a training run folder) on held-out text through
// @kd/pipeline's evaluateStudent: perplexity, bits per byte, KL to a teacher, spam/ham accuracy,
// EN→DE chrF. The flags are evaluateStudent's options; `--report FILE` also writes the HTML page.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { evaluateOptionsSchema, evaluateStudent, writeReport, type EvaluateOptions, type EvaluationResult, type ReportInput } from '@kd/pipeline';
import { loadCheckpoint } from '@kd/trainer';
import { defineCommand } from '../define-command.js';
import { Progress } from '../progress.js';

const ownSchema = z
  .object({
    json: z.boolean().optional().describe('print the result as one JSON object on stdout (and nothing else there)'),
    report: z.string().min(1).optional().describe('also write a self-contained report.html here (the eval table; the train and eval curves for a run folder)'),
  })
  .strict();

const orDash = (value: number | null, digits: number) => (value === null ? '—' : value.toFixed(digits));

/** The result as aligned lines for a terminal. */
export function evaluationLines(result: EvaluationResult): string[] {
  const row = (label: string, value: string, note = '') => `${label.padEnd(26)}${value.padStart(12)}  ${note}`.trimEnd();
  return [
    `student  ${result.student}${result.studentKind === 'checkpoint' ? ' (run folder, evaluated through a temporary export)' : ''}`,
    `corpus   ${result.corpus}`,
    '',
    row('perplexity', orDash(result.perplexity, 2), `per student token, ${result.tokens.toLocaleString('en-US')} tokens in ${result.documents} documents`),
    row('bits per byte', orDash(result.bitsPerByte, 4), `${result.bytes.toLocaleString('en-US')} UTF-8 bytes`),
    row('KL(teacher‖student)', orDash(result.klToTeacher, 4), result.teacher === null ? 'no teacher given' : `nats, ${result.klPositions.toLocaleString('en-US')} aligned positions (${orDash(result.alignedFraction === null ? null : 100 * result.alignedFraction, 1)}%)`),
    row('spam/ham accuracy', orDash(result.spamAccuracy, 4), `${result.classifyExamples} examples`),
    row('chrF (EN→DE)', orDash(result.chrF, 2), `${result.translateExamples} examples, greedy`),
    row('time', `${result.seconds.toFixed(1)} s`),
  ];
}

/** The train and eval curves of a run folder, for the report; none for an export. */
export async function runCurves(student: string): Promise<Pick<ReportInput, 'losses' | 'evalLosses' | 'evalTokens'>> {
  if (!existsSync(join(student, 'checkpoint', 'state.json')) && !existsSync(join(student, 'state.json'))) return {};
  const loaded = await loadCheckpoint(student);
  loaded.model.dispose();
  const { losses, evalLosses, settings } = loaded.state;
  const tokens = settings.evaluation?.tokens;
  return { losses, evalLosses, evalTokens: typeof tokens === 'number' ? tokens : undefined };
}

export async function runEval(options: EvaluateOptions, own: z.output<typeof ownSchema>, log: (line: string) => void = console.log): Promise<EvaluationResult> {
  let progress: Progress | undefined;
  const result = await evaluateStudent(options, {
    onStart: ({ total }) => {
      progress = new Progress({ label: 'eval', total, unit: 'docs', enabled: own.json ? false : undefined });
    },
    onProgress: ({ done, task }) => progress?.update(done, task),
  });
  progress?.finish();
  if (own.report) {
    const path = await writeReport(own.report, {
      title: `kd eval: ${options.student}`,
      ...(await runCurves(resolve(options.student))),
      evaluations: [{ name: options.student, result }],
      notes: [`corpus ${options.corpus}`, ...(options.teacher ? [`teacher ${options.teacher}`] : [])],
    });
    if (own.json) process.stderr.write(`report: ${path}\n`);
    else log(`report: ${path}`);
  }
  if (own.json) log(JSON.stringify(result));
  else for (const line of evaluationLines(result)) log(line);
  return result;
}

export function evalCommand(): Command {
  return defineCommand({
    name: 'eval',
    description: 'Measure a student on held-out text: perplexity, bits per byte, KL to a teacher, spam/ham accuracy, chrF',
    library: evaluateOptionsSchema,
    own: ownSchema,
    examples: [
      'kd eval --student out/student-onnx --corpus examples/corpus/dev.jsonl',
      'kd eval --student out/student --corpus examples/corpus/dev.jsonl --teacher examples/teacher --limit 50 --json',
      'kd eval --student out/student --corpus examples/corpus/dev.jsonl --report out/report.html',
    ],
    run: async (options, own) => {
      await runEval(options, own);
    },
  });
}
