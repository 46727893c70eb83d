// Model folders for tests: a small kd export built by @kd/trainer (untrained, so its text is
// noise, but its graph, config and templates are exactly what kd export writes), and copies of
// the fixtures with extra or missing files.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModel, exportModel, initializeBackend } from '@kd/trainer';
import { teacherDir } from './test-fixtures.js';

export interface TemporaryFolder {
  dir: string;
  remove(): Promise<void>;
}

export async function temporaryFolder(prefix: string): Promise<TemporaryFolder> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A kd export of a 2-layer student with the teacher's tokenizer. */
export async function buildKdExport(): Promise<TemporaryFolder> {
  await initializeBackend({ prefer: 'wasm' });
  const folder = await temporaryFolder('kd-infer-export-');
  const config = { vocabSize: 32000, hiddenSize: 32, intermediateSize: 64, layers: 2, heads: 4, keyValueHeads: 2, maxPositions: 256, initializerRange: 0.2, bosTokenId: 1, eosTokenId: 2 };
  const model = createModel(config, { seed: 11 });
  try {
    await exportModel(model, join(folder.dir, 'student'), { tokenizer: join(teacherDir, 'tokenizer.json') });
  } finally {
    model.dispose();
  }
  return { dir: join(folder.dir, 'student'), remove: folder.remove };
}

/** A copy of a fixture folder to add or remove files in. */
export async function copyFolder(source: string): Promise<TemporaryFolder> {
  const folder = await temporaryFolder('kd-infer-copy-');
  const dir = join(folder.dir, 'model');
  await cp(source, dir, { recursive: true });
  return { dir, remove: folder.remove };
}
