// What the pipeline's tests share: the shared teacher and corpus beside the repository, the
// example student tokenizer, and temporary folders removed after a test file.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

const shared = new URL('../../../../shared/', import.meta.url);
export const teacherDir = fileURLToPath(new URL('fixtures/teacher-llama-13m', shared));
export const devCorpus = fileURLToPath(new URL('corpus/dev.jsonl', shared));
export const studentTokenizer = fileURLToPath(new URL('../../../examples/student-tokenizer/tokenizer.json', import.meta.url));

/** A `fresh(prefix)` that makes a temporary folder, every one removed after the calling test file. */
export function temporaryFolders(): (prefix: string) => Promise<string> {
  const folders: string[] = [];
  afterAll(async () => {
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });
  return async (prefix) => {
    const folder = await mkdtemp(join(tmpdir(), prefix));
    folders.push(folder);
    return folder;
  };
}
