// Evaluating a student on held-out text as a library call: perplexity per student token and
// bits per UTF-8 byte (which compare across tokenizers), KL(teacher‖student) on the positions
// both models predict from the same text, spam/ham accuracy by scoring each label's
// continuation, and EN→DE chrF of greedy translations. One pass over the corpus; `limit` takes
// an evenly spread subset of each task (held-out files are often grouped by label).
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { softmax } from '@kd/compress';
import { chrF, classificationAccuracy, loadModel, type Model } from '@kd/infer';
import { loadTeacher, type Teacher } from '@kd/teacher';
import { readCorpusRecords, type CorpusTask } from '@kd/text';
import { exportModel } from '@kd/trainer';
import { alignPositions, buildVocabularyMap } from '@kd/vocab-align';
import { PipelineError } from './errors.js';
import { evaluateOptionsSchema, type EvaluateOptions, type EvaluateOptionsInput } from './evaluate-options.js';
import { describeOptionsIssue } from './issues.js';

export interface EvaluationResult {
  /** The student as given, and whether it was an export or a training run (exported for the evaluation). */
  student: string;
  studentKind: 'export' | 'checkpoint';
  corpus: string;
  teacher: string | null;
  /** exp(mean negative log-likelihood per student token) of the scored documents; null when the corpus has none. */
  perplexity: number | null;
  /** The same negative log-likelihood in bits, per UTF-8 byte of the scored text. */
  bitsPerByte: number | null;
  /** Student tokens scored (predicted positions) and the UTF-8 bytes and documents they cover. */
  tokens: number;
  bytes: number;
  documents: number;
  /** Mean KL(teacher‖student) in nats over aligned positions, teacher mapped onto the student vocabulary; null without a teacher. */
  klToTeacher: number | null;
  /** Positions the KL averages over, and their share of the scored student positions. */
  klPositions: number;
  alignedFraction: number | null;
  /** Mean teacher probability on tokens that have a student id (the rest is left out of the aligned target). */
  mappedMass: number | null;
  /** Classification accuracy over the classify records (the labels are those the corpus uses). */
  spamAccuracy: number | null;
  classifyExamples: number;
  /** Corpus chrF (0–100) of greedy translations against the references. */
  chrF: number | null;
  translateExamples: number;
  seconds: number;
}

export interface EvaluateProgress {
  /** Documents evaluated so far, of `total` selected (all tasks together). */
  done: number;
  total: number;
  task: CorpusTask;
}

export interface EvaluateHooks {
  onStart?: (start: { total: number; perTask: Record<CorpusTask, number>; studentKind: 'export' | 'checkpoint' }) => void;
  onProgress?: (progress: EvaluateProgress) => void;
}

const noTasks = (): Record<CorpusTask, number> => ({ text: 0, code: 0, classify: 0, translate: 0 });

function hasModel(dir: string): boolean {
  return existsSync(join(dir, 'onnx', 'model.onnx')) || existsSync(join(dir, 'model.onnx'));
}

/** The folder to load: an export as it is, a run folder exported to a temporary folder first. */
async function studentFolder(student: string): Promise<{ dir: string; kind: 'export' | 'checkpoint'; cleanup: () => Promise<void> }> {
  if (hasModel(student)) return { dir: student, kind: 'export', cleanup: async () => {} };
  if (existsSync(join(student, 'checkpoint', 'state.json')) || existsSync(join(student, 'state.json'))) {
    const scratch = await mkdtemp(join(tmpdir(), 'kd-eval-'));
    const cleanup = () => rm(scratch, { recursive: true, force: true });
    try {
      const result = await exportModel(student, join(scratch, 'student'));
      return { dir: result.dir, kind: 'checkpoint', cleanup };
    } catch (error) {
      await cleanup();
      throw error;
    }
  }
  throw new PipelineError('E_STUDENT', `student: ${student} holds neither an exported model (onnx/model.onnx or model.onnx) nor a training checkpoint (checkpoint/state.json); pass an export folder or a run folder`);
}

/** Every `every`-th document of a task, at most `limit` of them. */
function selector(counts: Record<CorpusTask, number>, limit: number | undefined): (task: CorpusTask) => boolean {
  const seen = noTasks();
  const taken = noTasks();
  return (task) => {
    const every = limit !== undefined && limit < counts[task] ? Math.ceil(counts[task] / limit) : 1;
    const position = seen[task]++;
    if (position % every !== 0 || (limit !== undefined && taken[task] >= limit)) return false;
    taken[task]++;
    return true;
  };
}

/** Character ranges of pieces of at most `window` student tokens, cut where one token ends and the next begins. */
async function pieces(model: Model, text: string, window: number): Promise<string[]> {
  const { offsets } = await model.tokenizer.frame(text, { bos: false, eos: false });
  const tokens = offsets.length / 2;
  const out: string[] = [];
  let start = 0;
  let count = 0;
  for (let token = 0; token < tokens; token++) {
    const tokenStart = offsets[2 * token];
    // A token that begins inside the previous one's span (bytes of one character) is no place to cut.
    const clean = token === 0 || tokenStart >= offsets[2 * token - 1];
    if (count >= window && clean && tokenStart > start) {
      out.push(text.slice(start, tokenStart));
      start = tokenStart;
      count = 0;
    }
    count++;
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

interface KlScorer {
  teacher: Teacher;
  student: Teacher;
  teacherToStudent: Int32Array;
  teacherRow: Float32Array;
  aligned: Float64Array;
}

/** Σ KL(teacher‖student) over the aligned positions of one piece, their count and the mapped teacher mass. */
async function pieceDivergence(scorer: KlScorer, text: string): Promise<{ sum: number; positions: number; mass: number }> {
  const { teacher, student, teacherToStudent, teacherRow, aligned } = scorer;
  const teacherFrame = await teacher.tokenizer.frame(text, { bos: true, eos: false });
  const studentFrame = await student.tokenizer.frame(text, { bos: true, eos: false });
  const teacherTokens = Math.min(teacherFrame.ids.length, teacher.contextLength);
  const studentTokens = Math.min(studentFrame.ids.length, student.contextLength);
  if (teacherTokens < 2 || studentTokens < 2) return { sum: 0, positions: 0, mass: 0 };
  const rowOf = alignPositions({ offsets: teacherFrame.offsets.subarray(0, 2 * teacherTokens) }, { offsets: studentFrame.offsets.subarray(0, 2 * studentTokens) });
  const teacherLogits = await teacher.forwardLogits(Int32Array.from(teacherFrame.ids.subarray(0, teacherTokens)), undefined, 1, teacherTokens);
  const studentLogits = await student.forwardLogits(Int32Array.from(studentFrame.ids.subarray(0, studentTokens)), undefined, 1, studentTokens);
  const teacherVocab = teacherLogits.length / teacherTokens;
  const studentVocab = studentLogits.length / studentTokens;
  const mapped = Math.min(teacherVocab, teacherToStudent.length);
  let sum = 0;
  let positions = 0;
  let massSum = 0;
  // The last position predicts what follows the piece, which is not scored.
  for (let position = 0; position < studentTokens - 1; position++) {
    const row = rowOf[position];
    if (row < 0 || row >= teacherTokens - 1) continue;
    softmax(teacherLogits.subarray(row * teacherVocab, (row + 1) * teacherVocab), 1, teacherRow);
    aligned.fill(0);
    let mass = 0;
    for (let id = 0; id < mapped; id++) {
      const target = teacherToStudent[id];
      if (target < 0 || target >= studentVocab) continue;
      aligned[target] += teacherRow[id];
      mass += teacherRow[id];
    }
    if (!(mass > 0)) continue;
    const logits = studentLogits.subarray(position * studentVocab, (position + 1) * studentVocab);
    let maximum = -Infinity;
    for (let id = 0; id < studentVocab; id++) if (logits[id] > maximum) maximum = logits[id];
    let total = 0;
    for (let id = 0; id < studentVocab; id++) total += Math.exp(logits[id] - maximum);
    const logNormalizer = maximum + Math.log(total);
    let divergence = 0;
    for (let id = 0; id < studentVocab; id++) {
      const probability = aligned[id] / mass;
      if (probability > 0) divergence += probability * (Math.log(probability) - (logits[id] - logNormalizer));
    }
    sum += divergence;
    massSum += mass;
    positions++;
  }
  return { sum, positions, mass: massSum };
}

async function openKlScorer(teacherDir: string, studentDir: string, studentModel: Model, options: EvaluateOptions): Promise<KlScorer> {
  const teacher = await loadTeacher(teacherDir, { threads: options.threads });
  try {
    const student = await loadTeacher(studentDir, { threads: options.threads });
    try {
      const map = await buildVocabularyMap(teacher.tokenizer, studentModel.tokenizer, { rule: options.mapping, cacheDir: options.mapCacheDir });
      return { teacher, student, teacherToStudent: map.teacherToStudent, teacherRow: new Float32Array(teacher.vocabSize), aligned: new Float64Array(student.vocabSize) };
    } catch (error) {
      await student.close();
      throw error;
    }
  } catch (error) {
    await teacher.close();
    throw error;
  }
}

/** Measures a student (an export or a run folder) on a held-out corpus; see EvaluationResult. */
export async function evaluateStudent(input: EvaluateOptionsInput, hooks: EvaluateHooks = {}): Promise<EvaluationResult> {
  const parsed = evaluateOptionsSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) throw new PipelineError('E_OPTIONS', `evaluate options: ${describeOptionsIssue(parsed.error.issues[0], evaluateOptionsSchema)}`);
  const options = parsed.data;
  if (!existsSync(options.corpus)) throw new PipelineError('E_CORPUS', `corpus: ${options.corpus} does not exist; pass a held-out .jsonl or .txt file or a folder of them`);
  const started = performance.now();
  const counts = noTasks();
  const classifyLabels = new Set<string>();
  for await (const document of readCorpusRecords(options.corpus)) {
    counts[document.task]++;
    if (document.record.task === 'classify') classifyLabels.add(document.record.label);
  }
  const tasks = new Set<CorpusTask>(options.tasks);
  const perTask = noTasks();
  for (const task of Object.keys(counts) as CorpusTask[]) perTask[task] = tasks.has(task) ? Math.min(counts[task], options.limit ?? Infinity) : 0;
  const total = Object.values(perTask).reduce((sum, count) => sum + count, 0);

  const folder = await studentFolder(resolve(options.student));
  hooks.onStart?.({ total, perTask, studentKind: folder.kind });
  let model: Model | undefined;
  let scorer: KlScorer | undefined;
  try {
    model = await loadModel(folder.dir, { threads: options.threads, promptOverflow: 'truncate-left', onNotice: () => undefined });
    if (options.teacher !== undefined) scorer = await openKlScorer(resolve(options.teacher), folder.dir, model, options);
    const window = Math.max(1, Math.min(options.window, model.contextLength - 1));
    const labels = [...classifyLabels].sort();
    const take = selector(counts, options.limit);
    let nats = 0;
    let tokens = 0;
    let bytes = 0;
    let documents = 0;
    let klSum = 0;
    let klPositions = 0;
    let massSum = 0;
    const predictions: string[] = [];
    const gold: string[] = [];
    const outputs: string[] = [];
    const references: string[] = [];
    let done = 0;
    for await (const document of readCorpusRecords(options.corpus)) {
      const { task, record } = document;
      if (!tasks.has(task) || !take(task)) continue;
      if (record.task === 'classify') {
        predictions.push((await model.classify(record.input, labels)).label);
        gold.push(record.label);
      } else if (record.task === 'translate') {
        const sourceTokens = (await model.tokenizer.encode(record.src)).ids.length;
        const result = await model.translate(record.src, {
          from: record.src_lang ?? 'English',
          to: record.tgt_lang ?? 'German',
          maxNewTokens: Math.min(options.maxNewTokens, 2 * sourceTokens + 16),
          temperature: 0,
        });
        outputs.push(result.text.trim());
        references.push(record.tgt);
      } else {
        documents++;
        for (const piece of await pieces(model, document.text, window)) {
          const framed = await model.tokenizer.frame(piece, { bos: true, eos: false });
          if (framed.ids.length < 2) continue;
          const scored = await model.score(piece);
          for (const logProbability of scored.logProbs) nats -= logProbability;
          tokens += scored.logProbs.length;
          bytes += Buffer.byteLength(piece);
          if (scorer) {
            const divergence = await pieceDivergence(scorer, piece);
            klSum += divergence.sum;
            klPositions += divergence.positions;
            massSum += divergence.mass;
          }
        }
      }
      hooks.onProgress?.({ done: ++done, total, task });
    }
    return {
      student: options.student,
      studentKind: folder.kind,
      corpus: options.corpus,
      teacher: options.teacher ?? null,
      perplexity: tokens > 0 ? Math.exp(nats / tokens) : null,
      bitsPerByte: bytes > 0 ? nats / Math.LN2 / bytes : null,
      tokens,
      bytes,
      documents,
      klToTeacher: scorer && klPositions > 0 ? klSum / klPositions : null,
      klPositions,
      alignedFraction: scorer && tokens > 0 ? klPositions / tokens : null,
      mappedMass: scorer && klPositions > 0 ? massSum / klPositions : null,
      spamAccuracy: gold.length > 0 ? classificationAccuracy(predictions, gold).accuracy : null,
      classifyExamples: gold.length,
      chrF: references.length > 0 ? chrF(outputs, references) : null,
      translateExamples: references.length,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await model?.dispose();
    await scorer?.student.close();
    await scorer?.teacher.close();
    await folder.cleanup();
  }
}
