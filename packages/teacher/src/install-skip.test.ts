// The README's install advice: onnxruntime-node's install script (which downloads CUDA
// libraries) does nothing with ONNXRUNTIME_NODE_INSTALL=skip, and the CPU runtime works without it.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { expect, test } from 'vitest';

test('ONNXRUNTIME_NODE_INSTALL=skip makes the install script exit at once, with no download', () => {
  const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
  let root = dirname(entry);
  while (!root.endsWith('onnxruntime-node')) root = dirname(root);
  const result = spawnSync(process.execPath, [join(root, 'script', 'install.js')], {
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', HTTPS_PROXY: 'http://127.0.0.1:9', https_proxy: 'http://127.0.0.1:9' },
    encoding: 'utf8',
  });
  expect(result.status).toBe(0);
  expect(`${result.stdout}${result.stderr}`).not.toMatch(/download/i);
});
