// Where the CLI looks for things the user did not name: the repository's built-in example
// teacher, found from this file's own location (source or built).
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

/** The built-in example teacher `examples/teacher` of a repository checkout, when it is there. */
export function defaultTeacherDir(): string | undefined {
  const root = repositoryRoot();
  if (!root) return undefined;
  const candidate = resolve(root, 'examples', 'teacher');
  return existsSync(join(candidate, 'onnx', 'model.onnx')) || existsSync(join(candidate, 'model.onnx')) ? candidate : undefined;
}
