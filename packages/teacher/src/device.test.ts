import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { executionProviders } from './device.js';
import { loadTeacher } from './teacher.js';

const exampleTeacher = fileURLToPath(new URL('../../../examples/teacher', import.meta.url));
const bindingRoot = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json')), 'bin');
const cudaInstalled = readdirSync(bindingRoot).some((napi) => existsSync(join(bindingRoot, napi, process.platform, process.arch, 'libonnxruntime_providers_cuda.so')));

describe('teacher device', () => {
  it('runs on the CPU provider by default', async () => {
    expect(executionProviders('cpu')).toEqual(['cpu']);
    const teacher = await loadTeacher(exampleTeacher);
    await teacher.close();
  });

  it.skipIf(cudaInstalled)('refuses cuda where the CUDA provider is not installed, before reading the model, saying what to install', async () => {
    await expect(loadTeacher('/nonexistent/teacher', { device: 'cuda' })).rejects.toMatchObject({
      code: 'E_DEVICE',
      message: expect.stringMatching(/^device cuda: onnxruntime-node('s CUDA execution provider is not installed| on .* has no CUDA execution provider).*use device cpu$/),
    });
  });
});
