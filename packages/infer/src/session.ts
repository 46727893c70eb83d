// Creating and running onnxruntime sessions: one place that sets the options (threads, the log
// level that keeps onnxruntime's own C++ log lines off stderr) and turns runtime failures into
// InferError.
import { env, InferenceSession, type Tensor } from 'onnxruntime-node';
import { InferError } from './errors.js';

export interface SessionSettings {
  /** onnxruntime intra-op threads. */
  threads: number;
}

/** onnxruntime's severity scale: 3 = errors only (warnings such as unused initializers stay quiet). */
const quiet = 3 as const;

/** `source`: the file, or the bytes of a rewritten graph (`modelPath` then names it in messages). */
export async function createSession(source: string | Uint8Array, modelPath: string, settings: SessionSettings): Promise<InferenceSession> {
  // The process-wide logger is created with the first session; until then the default is warnings.
  if (env.logLevel === undefined || env.logLevel === 'warning') env.logLevel = 'error';
  const options: InferenceSession.SessionOptions = {
    intraOpNumThreads: settings.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    logSeverityLevel: quiet,
  };
  try {
    return typeof source === 'string' ? await InferenceSession.create(source, options) : await InferenceSession.create(source, options);
  } catch (cause) {
    throw new InferError('E_MODEL_FORMAT', `${modelPath}: onnxruntime could not load the model (${firstLine(cause)}); check that the file is a complete ONNX graph`, { cause });
  }
}

export type Feeds = Record<string, Tensor>;
export type Outputs = InferenceSession.ReturnType;

const runOptions: InferenceSession.RunOptions = { logSeverityLevel: quiet };

export async function runSession(session: InferenceSession, feeds: Feeds, modelPath: string): Promise<Outputs> {
  try {
    return await session.run(feeds, runOptions);
  } catch (cause) {
    throw new InferError('E_RUNTIME', `${modelPath}: onnxruntime failed while running the model (${firstLine(cause)})`, { cause });
  }
}

function firstLine(cause: unknown): string {
  const message = cause instanceof Error ? cause.message : String(cause);
  return message.split('\n')[0].trim();
}
