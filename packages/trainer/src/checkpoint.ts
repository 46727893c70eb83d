// Checkpoints: everything a run needs to continue exactly (weights, optimizer moments, step,
// data position, the loss and eval curves so far) in one folder, replaced atomically: the new folder is
// written under a temporary name and renamed into place, so a crash leaves either the old
// checkpoint or the new one, never half of one. checksums.json (written last) covers every
// file and is checked on every load.
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { initializeBackend } from './backend.js';
import { verifyChecksums, writeChecksums } from './checkpoint-checksums.js';
import type { CheckpointHealth } from './checkpoint-health.js';
import type { RunSettings } from './run-settings.js';
import type { ModelConfig } from './config.js';
import { TrainerError } from './errors.js';
import { modelFromWeights, type StudentModel } from './model.js';
import { readSafetensors, writeSafetensors, type StoredTensor } from './safetensors.js';

export const checkpointFormatVersion = 1;

export type { RunSettings } from './run-settings.js';

export interface CheckpointState {
  formatVersion: number;
  step: number;
  /** Micro-batches consumed; the data worker restarts from here. */
  dataPosition: number;
  config: ModelConfig;
  settings: RunSettings;
  /** Loss of every step so far (step 1 first). */
  losses: number[];
  /** The held-out eval curve so far (runs with `evalCorpus`; absent in older checkpoints). */
  evalLosses?: { step: number; loss: number }[];
  /** Whether the weights and loss were sane when it was written (see checkpoint-health.ts). */
  health?: CheckpointHealth;
  savedAt: string;
}

const stateSchema = z.object({
  formatVersion: z.number().int(),
  step: z.number().int().nonnegative(),
  dataPosition: z.number().int().nonnegative(),
  config: z.record(z.string(), z.unknown()),
  settings: z.record(z.string(), z.unknown()),
  losses: z.array(z.number()),
  evalLosses: z.array(z.object({ step: z.number().int().nonnegative(), loss: z.number().nullable().transform((loss) => loss ?? Number.NaN) })).optional(),
  health: z
    .object({
      finiteWeights: z.boolean(),
      maxAbsWeight: z.number(),
      // JSON has no NaN: a checkpoint without a loss yet stores null.
      loss: z.number().nullable().transform((loss) => loss ?? Number.NaN),
      healthy: z.boolean(),
      problem: z.string().optional(),
    })
    .optional(),
  savedAt: z.string(),
});

export const checkpointFolderName = 'checkpoint';

/** Folder of the current checkpoint inside a run folder. */
export function checkpointPath(runDir: string): string {
  return join(runDir, checkpointFolderName);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function weightsOf(parameters: ReadonlyMap<string, { shape: number[]; dataSync(): unknown }>): Map<string, StoredTensor> {
  const tensors = new Map<string, StoredTensor>();
  for (const [name, parameter] of parameters) tensors.set(name, { shape: parameter.shape, data: parameter.dataSync() as Float32Array });
  return tensors;
}

/** Writes a checkpoint atomically into `<runDir>/checkpoint`, with the tokenizer (and its tokenizer_config.json) beside the weights. */
export async function saveCheckpoint(
  runDir: string,
  contents: { model: Pick<StudentModel, 'parameters'> | { parameters: ReadonlyMap<string, { shape: number[]; dataSync(): Float32Array }> }; optimizerState: ReadonlyMap<string, Float32Array>; state: Omit<CheckpointState, 'formatVersion' | 'savedAt'>; tokenizerPath: string },
): Promise<string> {
  const finalPath = checkpointPath(runDir);
  const partial = join(runDir, `${checkpointFolderName}.partial-${process.pid}`);
  const previous = join(runDir, `${checkpointFolderName}.previous`);
  try {
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true });
    await writeSafetensors(join(partial, 'weights.safetensors'), weightsOf(contents.model.parameters), { layout: 'kd-input-major' });
    const optimizerTensors = new Map<string, StoredTensor>();
    for (const [name, data] of contents.optimizerState) optimizerTensors.set(name, { shape: [data.length], data });
    await writeSafetensors(join(partial, 'optimizer.safetensors'), optimizerTensors);
    await copyFile(contents.tokenizerPath, join(partial, 'tokenizer.json'));
    // Its tokenizer_config.json names the special-token roles; it travels with the tokenizer.
    const tokenizerConfig = join(dirname(contents.tokenizerPath), 'tokenizer_config.json');
    if (await exists(tokenizerConfig)) await copyFile(tokenizerConfig, join(partial, 'tokenizer_config.json'));
    const state: CheckpointState = { formatVersion: checkpointFormatVersion, savedAt: new Date().toISOString(), ...contents.state };
    await writeFile(join(partial, 'state.json'), JSON.stringify(state, null, 2));
    await writeChecksums(partial);
    await rm(previous, { recursive: true, force: true });
    if (await exists(finalPath)) await rename(finalPath, previous);
    await rename(partial, finalPath);
    await rm(previous, { recursive: true, force: true });
  } catch (cause) {
    if (cause instanceof TrainerError) throw cause;
    throw new TrainerError('E_CHECKPOINT', `writing the checkpoint in ${runDir} failed: ${(cause as Error).message}; check free space and permissions`, { cause });
  }
  return finalPath;
}

export interface LoadedCheckpoint {
  path: string;
  state: CheckpointState;
  model: StudentModel;
  optimizerState: Map<string, Float32Array>;
  tokenizerPath: string;
}

/** Finds the checkpoint of a run folder (or a checkpoint folder itself); undefined when there is none. */
export async function findCheckpoint(path: string): Promise<string | undefined> {
  if (await exists(join(path, 'state.json'))) return path;
  for (const candidate of [checkpointPath(path), join(path, `${checkpointFolderName}.previous`)]) {
    // `.previous` exists alone only if a crash fell between the two renames of a save.
    if (await exists(join(candidate, 'state.json'))) return candidate;
  }
  return undefined;
}

/** Loads weights, optimizer moments and state from a run folder or checkpoint folder. */
export async function loadCheckpoint(path: string): Promise<LoadedCheckpoint> {
  const folder = await findCheckpoint(path);
  if (!folder) throw new TrainerError('E_CHECKPOINT', `no checkpoint in ${path} (expected ${checkpointPath(path)}/state.json); train first or check the path`);
  // Nothing of a damaged checkpoint is trained on or exported.
  await verifyChecksums(folder);
  // The weights become tensors: a process that only loads (kd export) has no backend yet.
  await initializeBackend();
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(join(folder, 'state.json'), 'utf8'));
  } catch (cause) {
    throw new TrainerError('E_CHECKPOINT', `${join(folder, 'state.json')} is not readable JSON`, { cause });
  }
  const parsed = stateSchema.safeParse(raw);
  if (!parsed.success) throw new TrainerError('E_CHECKPOINT', `${join(folder, 'state.json')}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  if (parsed.data.formatVersion !== checkpointFormatVersion) {
    throw new TrainerError('E_CHECKPOINT', `checkpoint format ${parsed.data.formatVersion} in ${folder}; this version reads format ${checkpointFormatVersion}`);
  }
  const state = parsed.data as unknown as CheckpointState;
  const weights = await readSafetensors(join(folder, 'weights.safetensors'));
  const model = modelFromWeights(state.config, new Map([...weights.tensors].map(([name, tensor]) => [name, tensor.data])));
  const optimizer = await readSafetensors(join(folder, 'optimizer.safetensors'));
  const optimizerState = new Map([...optimizer.tensors].map(([name, tensor]) => [name, tensor.data]));
  return { path: folder, state, model, optimizerState, tokenizerPath: join(folder, 'tokenizer.json') };
}
