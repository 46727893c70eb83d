// onnxruntime-node, loaded on first use: it is an optional peer dependency of @kd/trainer (288 MB
// with every platform's binaries), so the package imports and trains without it, on the
// TensorFlow.js engine, and takes the native engine whenever the user has installed it.
import type * as Onnxruntime from 'onnxruntime-node';
import { TrainerError } from '../errors.js';

export type OnnxruntimeModule = typeof Onnxruntime;

let loading: Promise<OnnxruntimeModule | undefined> | undefined;
let failure: unknown;

/** onnxruntime-node when it is installed and loads, else undefined (the reason is kept for `loadOnnxruntime`). */
export function findOnnxruntime(): Promise<OnnxruntimeModule | undefined> {
  loading ??= import('onnxruntime-node').then(
    (module): OnnxruntimeModule => module,
    (cause: unknown) => {
      failure = cause;
      return undefined;
    },
  );
  return loading;
}

/** onnxruntime-node, or a TrainerError saying how to install it. */
export async function loadOnnxruntime(): Promise<OnnxruntimeModule> {
  const module = await findOnnxruntime();
  if (module) return module;
  throw new TrainerError(
    'E_ENGINE',
    `the onnxruntime engine needs onnxruntime-node, which is not installed or did not load (${(failure as Error | undefined)?.message?.split('\n')[0] ?? 'unknown reason'}); install onnxruntime-node (npm install onnxruntime-node@^1.30.0)`,
    { cause: failure },
  );
}
