// Chooses the TensorFlow.js backend once per process: native TensorFlow through
// `@tensorflow/tfjs-node` when the user has it installed, else the WebAssembly backend
// (always installed). The choice is reported so a user knows what speed to expect. The
// gradients training needs are registered here too (tf-gradients.ts).
import * as tf from './tf.js';
import '@tensorflow/tfjs-backend-wasm';
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

async function tryNative(): Promise<boolean> {
  // A variable module name keeps bundlers and the type checker from requiring the optional package.
  const nativePackage = '@tensorflow/tfjs-node';
  try {
    await import(nativePackage);
  } catch {
    return false;
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
    ready = await tf.setBackend('wasm');
    await tf.ready();
  } catch (cause) {
    throw new TrainerError('E_BACKEND', 'the wasm backend failed to start; reinstall @tensorflow/tfjs-backend-wasm', { cause });
  }
  if (!ready) throw new TrainerError('E_BACKEND', 'the wasm backend failed to start; reinstall @tensorflow/tfjs-backend-wasm');
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  chosen = {
    name: 'wasm',
    description: `backend: wasm (${simd ? 'SIMD' : 'no SIMD'}, one thread; install @tensorflow/tfjs-node for native speed)`,
  };
  return chosen;
}
