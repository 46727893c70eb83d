// Every package README's TypeScript example runs as written. A ```ts block that imports a kd
// package is a program: it is saved as a module and run in its own process, from a scratch
// folder that holds a link to the repository's examples/ (the paths the READMEs name), so the
// files an example writes (out/…) land in the scratch folder. tsx resolves @kd/* to the
// packages' sources through the repository's tsconfig paths. Blocks without such an import
// (type sketches) are not programs and are not run.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from './test-fixtures.js';

const scratch = mkdtempSync(join(tmpdir(), 'kd-readme-'));
symlinkSync(join(repoRoot, 'examples'), join(scratch, 'examples'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
// The scratch folder has no node_modules: tsx's loader is named by its location in the repository.
const tsxLoader = pathToFileURL(join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

interface Example {
  readme: string;
  index: number;
  code: string;
}

/** The program blocks of one README, in order. */
function programBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!).filter((code) => /from '@kd\//.test(code));
}

const examples: Example[] = readdirSync(join(repoRoot, 'packages'))
  .sort()
  .flatMap((name) => {
    const readme = join('packages', name, 'README.md');
    let markdown: string;
    try {
      markdown = readFileSync(join(repoRoot, readme), 'utf8');
    } catch {
      return [];
    }
    return programBlocks(markdown).map((code, index) => ({ readme, index, code }));
  });

function run(example: Example): Promise<{ code: number | null; output: string }> {
  const file = join(scratch, `${example.readme.split('/')[1]}-${example.index}.mts`);
  writeFileSync(file, example.code);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', tsxLoader, file], {
      cwd: scratch,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(repoRoot, 'tsconfig.json'), FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('README examples', () => {
  it('finds a program in every package README that has an example', () => {
    const readmes = new Set(examples.map((example) => example.readme));
    for (const name of ['text', 'teacher', 'compress', 'codec-parquet', 'vocab-align', 'trainer', 'infer', 'pipeline', 'lm-signature']) {
      expect(readmes, name).toContain(`packages/${name}/README.md`);
    }
  });

  for (const example of examples) {
    it(`${example.readme} example ${example.index + 1} runs`, async () => {
      const result = await run(example);
      expect(result.code, result.output).toBe(0);
    }, 300_000);
  }
});
