import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportModel, train } from '@kd/trainer';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateStudent, type EvaluationResult } from './evaluate.js';
import { devCorpus, studentTokenizer, teacherDir, temporaryFolders } from './test-fixtures.js';


const fresh = temporaryFolders();

/**
 * A held-out slice cut from dev.jsonl, small enough for a test: two text documents (their first
 * 1,500 characters), four classify rows grouped by label as in dev.jsonl (two ham, then two spam) and
 * three translations; limit 2 takes every other row of each task (one ham, one spam).
 */
async function writeSlice(): Promise<string> {
  const rows = (await readFile(devCorpus, 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as { task: string; text?: string; label?: string; input?: string });
  const text = rows.filter((row) => row.task === 'text').slice(0, 4).map((row) => ({ ...row, text: row.text!.slice(0, 1500) }));
  const ham = rows.filter((row) => row.task === 'classify' && row.label === 'ham').slice(0, 2);
  const spam = rows.filter((row) => row.task === 'classify' && row.label === 'spam').slice(0, 2);
  const translate = rows.filter((row) => row.task === 'translate').slice(0, 3);
  const file = join(await fresh('kd-eval-corpus-'), 'dev-slice.jsonl');
  await writeFile(file, [...text, ...ham, ...spam, ...translate].map((row) => JSON.stringify(row)).join('\n') + '\n');
  return file;
}

let slice: { corpus: string; limit: number; window: number; maxNewTokens: number; threads: number };

let run: string;
let exported: string;
let selfScored: EvaluationResult;
beforeAll(async () => {
  // A tiny real student on the example's 8k tokenizer: a few steps, exported with its KV cache.
  slice = { corpus: await writeSlice(), limit: 2, window: 96, maxNewTokens: 8, threads: 2 };
  run = await fresh('kd-eval-run-');
  await train({
    corpus: devCorpus,
    tasks: ['text'],
    limit: 4,
    tokenizer: studentTokenizer,
    out: run,
    model: { hiddenSize: 32, intermediateSize: 64, layers: 1, heads: 2, maxPositions: 256 },
    steps: 3,
    batchSize: 2,
    sequenceLength: 32,
    learningRate: 1e-2,
    seed: 1,
    backend: 'wasm',
    threads: 2,
  });
  exported = join(await fresh('kd-eval-export-'), 'student');
  await exportModel(run, exported);
  selfScored = await evaluateStudent({ ...slice, student: teacherDir, teacher: teacherDir, tasks: ['text', 'classify', 'translate'] });
}, 600_000);

describe('evaluateStudent', () => {
  it('scores the teacher against itself with KL ≈ 0 on every position, and reports each task with its count', () => {
    expect(selfScored.studentKind).toBe('export');
    expect(selfScored.documents).toBe(2);
    expect(selfScored.tokens).toBeGreaterThan(400);
    // Only positions whose next token continues a character (byte pieces) have no pair.
    expect(selfScored.alignedFraction).toBeGreaterThan(0.97);
    expect(selfScored.mappedMass).toBeCloseTo(1, 5);
    expect(selfScored.klToTeacher).toBeGreaterThanOrEqual(-1e-6);
    expect(selfScored.klToTeacher).toBeLessThan(1e-4);
    // Perplexity and bits per byte are the same negative log-likelihood, per token and per byte.
    expect(Math.log(selfScored.perplexity!) * selfScored.tokens).toBeCloseTo(selfScored.bitsPerByte! * Math.LN2 * selfScored.bytes, 3);
    expect(selfScored.perplexity).toBeGreaterThan(1);
    expect(selfScored.perplexity).toBeLessThan(200);
    expect(selfScored.classifyExamples).toBe(2);
    expect([0, 0.5, 1]).toContain(selfScored.spamAccuracy);
    expect(selfScored.translateExamples).toBe(2);
    expect(selfScored.chrF).toBeGreaterThan(0);
    expect(selfScored.chrF).toBeLessThanOrEqual(100);
  });

  it('a student on another tokenizer reads the same bytes in more tokens; bits per byte compare, KL is far from 0', { timeout: 600_000 }, async () => {
    const student = await evaluateStudent({ ...slice, student: exported, teacher: teacherDir, tasks: ['text'] });
    expect(student.bytes).toBe(selfScored.bytes);
    expect(student.tokens).toBeGreaterThan(selfScored.tokens);
    // A student of three steps is far worse than the trained teacher per byte, whatever its token count.
    expect(student.bitsPerByte).toBeGreaterThan(selfScored.bitsPerByte! + 1);
    expect(student.klToTeacher).toBeGreaterThan(1);
    expect(student.alignedFraction).toBeGreaterThan(0.3);
    expect(student.alignedFraction).toBeLessThan(1);
    expect(student.klPositions).toBeLessThan(student.tokens);
    expect(student.spamAccuracy).toBeNull();
    expect(student.chrF).toBeNull();
    expect(student.classifyExamples).toBe(0);
  });

  it('evaluates a training run folder through a temporary export, with the figures of the export itself', { timeout: 600_000 }, async () => {
    const fromExport = await evaluateStudent({ ...slice, limit: 1, student: exported, tasks: ['text', 'translate'] });
    const fromRun = await evaluateStudent({ ...slice, limit: 1, student: run, tasks: ['text', 'translate'] });
    expect(fromRun.studentKind).toBe('checkpoint');
    expect(fromRun.perplexity).toBeCloseTo(fromExport.perplexity!, 6);
    expect(fromRun.tokens).toBe(fromExport.tokens);
    expect(fromRun.chrF).toBe(fromExport.chrF);
    expect(fromRun.klToTeacher).toBeNull();
    expect(fromRun.translateExamples).toBe(1);
  });

  it('refuses a folder with no model or checkpoint, a missing corpus and unknown options', async () => {
    const empty = await fresh('kd-eval-empty-');
    await expect(evaluateStudent({ student: empty, corpus: devCorpus })).rejects.toMatchObject({ code: 'E_STUDENT' });
    await expect(evaluateStudent({ student: exported, corpus: join(empty, 'missing.jsonl') })).rejects.toMatchObject({ code: 'E_CORPUS' });
    await expect(evaluateStudent({ student: exported, corpus: devCorpus, data: devCorpus } as never)).rejects.toMatchObject({ code: 'E_OPTIONS', message: expect.stringMatching(/`data`/) });
    const corpus = join(empty, 'one.jsonl');
    await writeFile(corpus, `${JSON.stringify({ text: 'A short held-out line of text.' })}\n`);
    const result = await evaluateStudent({ student: exported, corpus });
    expect(result.documents).toBe(1);
    expect(result.spamAccuracy).toBeNull();
    expect(result.chrF).toBeNull();
  });
});
