import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { teacherDir } from './test-fixtures.js';

const child = fileURLToPath(new URL('./runtime-error-child.ts', import.meta.url));
const tsconfig = fileURLToPath(new URL('../tsconfig.json', import.meta.url));

test('an error inside onnxruntime is a TeacherError with a code, and onnxruntime writes nothing to stderr', async () => {
  const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve, reject) => {
    const process = spawn('node', ['--import', 'tsx', child, teacherDir], { env: { ...globalThis.process.env, TSX_TSCONFIG_PATH: tsconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    process.stdout.on('data', (chunk) => (out += chunk));
    process.stderr.on('data', (chunk) => (err += chunk));
    process.on('error', reject);
    process.on('close', (exitCode) => resolve({ stdout: out, stderr: err, code: exitCode }));
  });
  expect(code).toBe(0);
  expect(JSON.parse(stdout)).toMatchObject({ name: 'TeacherError', code: 'E_MODEL_RUN', message: expect.stringMatching(/indices element out of data bounds/) });
  expect(stderr).toBe('');
});
