// Runs the `kd` CLI from source in a child process (no build needed) and finds the shared
// fixtures beside the repository.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const sharedDir = fileURLToPath(new URL('../../../../shared/', import.meta.url));
export const teacherDir = `${sharedDir}fixtures/teacher-llama-13m`;
export const devCorpus = `${sharedDir}corpus/dev.jsonl`;
export const haveShared = existsSync(`${teacherDir}/model.onnx`);

const cliSource = `${repoRoot}apps/distill/src/cli.ts`;

/** Starts `kd ...args` from source; tsx resolves @kd/* to the packages' src through tsconfig paths. */
export function startKd(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawnFromSource([cliSource, ...args], env);
}

/** Starts `kd ...args` so that it kills itself with SIGKILL after its `updates`-th progress update (for kd label: documents written). */
export function startKdKilledAfter(updates: number, args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawnFromSource([fileURLToPath(new URL('./label-child.ts', import.meta.url)), String(updates), ...args], env);
}

function spawnFromSource(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env, TSX_TSCONFIG_PATH: `${repoRoot}apps/distill/tsconfig.json`, FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export interface KdResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function collect(child: ChildProcess): Promise<KdResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export function kd(args: string[], env: Record<string, string> = {}): Promise<KdResult> {
  return collect(startKd(args, env));
}
