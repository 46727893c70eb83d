// Where the CLI looks for things the user did not name: the shared example teacher beside
// the repository, found from this file's own location (source or built).
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest parent folder holding pnpm-workspace.yaml, if any. */
export function repositoryRoot(): string | undefined {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(folder, 'pnpm-workspace.yaml'))) return folder;
    const parent = dirname(folder);
    if (parent === folder) return undefined;
    folder = parent;
  }
}

/** `../shared/fixtures/teacher-llama-13m` next to the repository, when it is there. */
export function defaultTeacherDir(): string | undefined {
  const root = repositoryRoot();
  if (!root) return undefined;
  const candidate = resolve(root, '..', 'shared', 'fixtures', 'teacher-llama-13m');
  return existsSync(join(candidate, 'model.onnx')) ? candidate : undefined;
}
