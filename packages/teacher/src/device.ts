// Where the teacher runs: onnxruntime's CPU execution provider (bundled with onnxruntime-node,
// the default) or its CUDA provider. onnxruntime-node's Linux x64 build lists CUDA as a backend
// but does not bundle its libraries (its install script fetches them, and pnpm and `--ignore-scripts`
// installs skip that script), so `cuda` is checked before a session is built and refused with
// what to install instead of failing inside onnxruntime.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { listSupportedBackends } from 'onnxruntime-node';
import { TeacherError } from './errors.js';

export const teacherDevices = ['cpu', 'cuda'] as const;
export type TeacherDevice = (typeof teacherDevices)[number];

/** The folder of onnxruntime-node's native binding for this platform, where its provider libraries must lie. */
function bindingFolder(): string | undefined {
  try {
    const root = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    for (const napi of ['napi-v6', 'napi-v3']) {
      const folder = join(root, 'bin', napi, process.platform, process.arch);
      if (existsSync(folder)) return folder;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** The execution providers of a session on `device`; refuses a device this installation cannot use. */
export function executionProviders(device: TeacherDevice): string[] {
  if (device === 'cpu') return ['cpu'];
  if (device !== 'cuda') throw new TeacherError('E_OPTIONS', `device must be one of ${teacherDevices.join(', ')}; got ${JSON.stringify(device)}`);
  const backend = listSupportedBackends().find((entry) => entry.name === 'cuda');
  if (!backend) {
    throw new TeacherError('E_DEVICE', `device cuda: onnxruntime-node on ${process.platform}/${process.arch} has no CUDA execution provider (it has ${listSupportedBackends().map((entry) => entry.name).join(', ')}); use device cpu`);
  }
  const folder = bindingFolder();
  if (!backend.bundled && (!folder || !existsSync(join(folder, 'libonnxruntime_providers_cuda.so')))) {
    throw new TeacherError(
      'E_DEVICE',
      `device cuda: onnxruntime-node's CUDA execution provider is not installed (no libonnxruntime_providers_cuda.so in ${folder ?? 'its binding folder'}); ` +
        'reinstall onnxruntime-node with its install script allowed and ONNXRUNTIME_NODE_INSTALL=cuda12 on a machine with CUDA 12 and cuDNN 9, or use device cpu',
    );
  }
  return ['cuda'];
}
