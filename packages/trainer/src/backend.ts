// Chooses the TensorFlow.js backend once per process: native TensorFlow through
// `@tensorflow/tfjs-node` when the user has it installed, else the WebAssembly backend
// (always there: bundled into dist/ with its .wasm binaries beside the built files, see
// tsup.config.ts). The choice is reported so a user knows what speed to expect. The
// gradients training needs are registered here too (tf-gradients.ts).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from './tf.js';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { TrainerError } from './errors.js';
import { registerWasmKernels } from './kernels.js';
import { registerTrainingGradients } from './tf-gradients.js';

export type BackendName = 'tensorflow' | 'wasm';

export interface BackendInfo {
  name: BackendName;
  /** One line for the user: which backend and why. */
  description: string;
}

export interface BackendOptions {
  /** `auto` (default) takes tfjs-node when installed; `wasm` forces the WebAssembly backend. */
  prefer?: 'auto' | 'wasm';
}

let chosen: BackendInfo | undefined;

/**
 * The built package carries the backend's .wasm binaries beside its own files (a bundle's
 * location is not the backend package's, where the emscripten loader would look); run from
 * source, the backend package finds its own.
 */
function pointWasmBackendAtBundledBinaries(): void {
  const folder = fileURLToPath(new URL('.', import.meta.url));
  if (existsSync(`${folder}tfjs-backend-wasm-simd.wasm`)) setWasmPaths(folder);
}

async function tryNative(): Promise<boolean> {
  // A variable module name keeps bundlers and the type checker from requiring the optional package.
  const nativePackage = '@tensorflow/tfjs-node';
  // tfjs-node brings its own copy of tfjs-core (the built trainer carries another), and both keep
  // their engine, backends and kernels on the global namespace, so its `tensorflow` backend is
  // found here. Its copy sets the Node platform again on that shared environment, warning that
  // one is set; ours is cleared first (the same class of the same version) and put back if the
  // import fails before setting its own.
  const environment = tf.env() as unknown as { platform: unknown; platformName: string };
  const platform = { value: environment.platform, name: environment.platformName };
  environment.platform = undefined;
  try {
    await import(nativePackage);
  } catch {
    return false;
  } finally {
    if (environment.platform == null) [environment.platform, environment.platformName] = [platform.value, platform.name];
  }
  return tf.findBackend('tensorflow') !== null && (await tf.setBackend('tensorflow'));
}

/** Initializes the backend (idempotent) and says which one runs. */
export async function initializeBackend(options: BackendOptions = {}): Promise<BackendInfo> {
  const prefer = options.prefer ?? 'auto';
  registerTrainingGradients();
  if (chosen && (prefer === 'auto' || chosen.name === 'wasm')) return chosen;
  if (prefer === 'auto' && (await tryNative())) {
    await tf.ready();
    chosen = { name: 'tensorflow', description: 'backend: tensorflow (native, from @tensorflow/tfjs-node)' };
    return chosen;
  }
  registerWasmKernels();
  let ready = false;
  try {
    pointWasmBackendAtBundledBinaries();
    ready = await tf.setBackend('wasm');
    await tf.ready();
  } catch (cause) {
    throw new TrainerError('E_BACKEND', 'the wasm backend failed to start; reinstall @kd/trainer (its dist/ holds the backend\'s .wasm files)', { cause });
  }
  if (!ready) throw new TrainerError('E_BACKEND', 'the wasm backend failed to start; reinstall @kd/trainer (its dist/ holds the backend\'s .wasm files)');
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  chosen = {
    name: 'wasm',
    description: `backend: wasm (${simd ? 'SIMD' : 'no SIMD'}, one thread; install @tensorflow/tfjs-node for native speed)`,
  };
  return chosen;
}
