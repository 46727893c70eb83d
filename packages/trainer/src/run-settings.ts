// The resume contract of a training run: every setting and a fingerprint of every input that
// changes the result (corpus content, tokenizer, model shape, schedule, optimizer, batching,
// seed, engine) is recorded in the checkpoint, and a resume that differs in any of them is
// refused with the setting, the recorded value and the given one, instead of mixing two runs.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { TrainerError } from './errors.js';

/** What a run was started with; a resume must match it. */
export interface RunSettings {
  objective: string;
  /** The engine and its intra-op threads (results are bit-reproducible for a given count). */
  engine?: string;
  threads?: number;
  batchSize: number;
  sequenceLength: number;
  accumulate: number;
  steps: number;
  seed: number;
  /** Where the corpus was when the run started (informational: the fingerprint is what must match). */
  corpus: string;
  tasks?: string[];
  limit?: number;
  /** sha256 over the corpus files the reader reads (relative names and contents). */
  corpusSha256?: string;
  /** sha256 of the tokenizer.json the run started with. */
  tokenizerSha256?: string;
  /** The student's requested shape (the resolved config is stored beside it). */
  model?: Record<string, unknown>;
  learningRate?: number;
  minimumLearningRateRatio?: number;
  warmupSteps?: number;
  weightDecay?: number;
  clip?: number;
  /** Objective kd: where the teacher rows come from and the distillation settings. */
  distillation?: Record<string, unknown>;
  /** The held-out evaluation (evalEvery, the tokens and their fingerprint); null: none. */
  evaluation?: Record<string, unknown> | null;
}

/** Settings compared on resume, in the order a mismatch is reported. `corpus` (a path) is not among them. */
const comparedSettings = [
  'corpusSha256',
  'tasks',
  'limit',
  'tokenizerSha256',
  'model',
  'objective',
  'learningRate',
  'minimumLearningRateRatio',
  'warmupSteps',
  'weightDecay',
  'clip',
  'steps',
  'batchSize',
  'sequenceLength',
  'accumulate',
  'seed',
  'engine',
  'threads',
  'distillation',
  'evaluation',
] as const satisfies readonly (keyof RunSettings)[];

export async function sha256OfPath(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/** The files a corpus path stands for, as the corpus reader reads them: the file itself, or every .jsonl/.txt under a folder, sorted. */
async function corpusFiles(path: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch (cause) {
    throw new TrainerError('E_DATA', `corpus ${path} does not exist`, { cause });
  }
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && /\.(jsonl|txt)$/i.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** sha256 over the corpus: each file's name relative to the corpus path and its content hash. */
export async function corpusFingerprint(path: string): Promise<string> {
  const hash = createHash('sha256');
  for (const file of await corpusFiles(path)) hash.update(`${relative(path, file)}\0${await sha256OfPath(file)}\n`);
  return hash.digest('hex');
}

const show = (value: unknown) => (value === undefined ? 'none' : JSON.stringify(value));

/**
 * Distillation settings a run records only when they differ from these values (runs made before
 * the setting existed behaved so): a recorded run without one had this value.
 */
export const distillationLeftOut: Readonly<Record<string, unknown>> = { categories: 'token', shuffleParts: 1 };

/** The distillation settings without the ones at their left-out value. */
export function recordedDistillation(settings: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(settings).filter(([name, value]) => !(name in distillationLeftOut && distillationLeftOut[name] === value)));
}

function distillationDifferences(was: Record<string, unknown>, now: Record<string, unknown>): string[] {
  const names = [...new Set([...Object.keys(was), ...Object.keys(now)])];
  return names.flatMap((name) => {
    const [before, after] = [was[name] ?? distillationLeftOut[name], now[name] ?? distillationLeftOut[name]];
    return JSON.stringify(before ?? null) === JSON.stringify(after ?? null) ? [] : [`distillation ${name}: the run recorded ${show(before)}, this resume gives ${show(after)}`];
  });
}

/** Names every setting in which `given` differs from `recorded` (empty when they agree). */
export function settingDifferences(recorded: RunSettings, given: RunSettings): string[] {
  const differences: string[] = [];
  for (const key of comparedSettings) {
    const [was, now] = [recorded[key], given[key]];
    // A setting the checkpoint does not record (an older run) cannot be compared.
    if (was === undefined && key !== 'tasks' && key !== 'limit') continue;
    if (key === 'distillation' && was && now) {
      differences.push(...distillationDifferences(was as Record<string, unknown>, now as Record<string, unknown>));
      continue;
    }
    if (JSON.stringify(was ?? null) !== JSON.stringify(now ?? null)) {
      const what = key === 'corpusSha256' ? 'corpus content (sha256)' : key === 'tokenizerSha256' ? 'tokenizer (sha256)' : key;
      differences.push(`${what}: the run recorded ${show(was)}, this resume gives ${show(now)}`);
    }
  }
  return differences;
}

/** Refuses a resume whose settings differ from the recorded ones (E_CHECKPOINT naming each). */
export function assertSameSettings(out: string, recorded: RunSettings, given: RunSettings): void {
  const differences = settingDifferences(recorded, given);
  if (differences.length > 0) {
    throw new TrainerError(
      'E_CHECKPOINT',
      `cannot resume ${out}: ${differences.join('; ')}; resume with the settings and inputs the run started with (corpus ${recorded.corpus}), or start a new run in another folder`,
    );
  }
}
