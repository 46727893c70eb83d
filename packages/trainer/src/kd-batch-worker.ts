// Worker thread that serves the teacher-row batches of a `kd label` folder off the training
// thread: it opens the labels, decodes their parts, tokenizes and aligns them and writes each
// batch's targets while the step runs on the main thread (onnxruntime's `session.run` blocks
// that thread, so work left there adds to every step). Batch p is a pure function of (seed, p):
// the worker computes the positions it is asked for, in order, and the trainer asks a few ahead.
import { parentPort, workerData } from 'node:worker_threads';
import type { TeacherBatch } from './kd-batches.js';
import { openLabelsSampler, type SamplerSettings } from './kd-sampler.js';

export interface KdBatchWorkerSettings extends SamplerSettings {
  labels: string;
}

export type ToKdWorker = { kind: 'batch'; position: number };
export type FromKdWorker =
  | { kind: 'ready'; width: number; tokens: number; alignedPositions: number; studentVocabSize: number; sampled: boolean }
  | { kind: 'batch'; batch: TeacherBatch }
  | { kind: 'error'; name: string; code?: string; message: string };

const port = parentPort!;
const settings = workerData as KdBatchWorkerSettings;

function report(error: unknown): void {
  const { name, message, code } = error instanceof Error ? (error as Error & { code?: unknown }) : { name: 'Error', message: String(error), code: undefined };
  port.postMessage({ kind: 'error', name, message, ...(typeof code === 'string' ? { code } : {}) } satisfies FromKdWorker);
}

/** The batch's arrays, handed over rather than copied (each batch has arrays of its own). */
function transfers(batch: TeacherBatch): ArrayBuffer[] {
  const { targets } = batch;
  return [batch.tokens, batch.origins, targets.ids, targets.probs, targets.residual, targets.present, targets.category, targets.lengths].flatMap((array) => (array ? [array.buffer as ArrayBuffer] : []));
}

const opened = openLabelsSampler(settings.labels, settings);
opened.then(
  ({ sampler, studentVocabSize, sampled }) =>
    port.postMessage({ kind: 'ready', width: sampler.width, tokens: sampler.tokens, alignedPositions: sampler.alignedPositions, studentVocabSize, sampled } satisfies FromKdWorker),
  report,
);
let queue: Promise<void> = Promise.resolve();
port.on('message', (message: ToKdWorker) => {
  queue = queue.then(async () => {
    const { sampler } = await opened.catch(() => ({ sampler: undefined }));
    if (!sampler) return; // the failure to open is reported once, above
    try {
      const batch = await sampler.batchAt(message.position);
      port.postMessage({ kind: 'batch', batch } satisfies FromKdWorker, transfers(batch));
    } catch (error) {
      report(error);
    }
  });
});
