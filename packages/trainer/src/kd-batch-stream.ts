// The teacher-row batches a kd run trains on, behind one interface: from a `kd label` folder
// through the batch worker (kd-batch-worker.ts), which prepares the next few batches while the
// step runs, or in this thread from a row source handed in (an online teacher).
import { AlignError } from '@kd/vocab-align';
import { CodecError } from '@kd/codec-parquet';
import { TrainerError } from './errors.js';
import type { TeacherBatch } from './kd-batches.js';
import type { FromKdWorker, KdBatchWorkerSettings, ToKdWorker } from './kd-batch-worker.js';
import type { OpenedSampler, SamplerSettings } from './kd-sampler.js';
import { startTrainerWorker } from './worker-start.js';

export interface TeacherBatches {
  /** Entries per target row at most (a batch's own width may be smaller). */
  readonly width: number;
  /** Student tokens over the whole source. */
  readonly tokens: number;
  readonly studentVocabSize: number;
  /** Rows are sampled estimates. */
  readonly sampled: boolean;
  /** Micro-batch `position` (0, 1, …). */
  batchAt(position: number): Promise<TeacherBatch>;
  close(): Promise<void>;
}

/** Batches from a sampler in this thread. */
export function batchesInThread({ sampler, studentVocabSize, sampled }: OpenedSampler): TeacherBatches {
  return { width: sampler.width, tokens: sampler.tokens, studentVocabSize, sampled, batchAt: (position) => sampler.batchAt(position), close: async () => undefined };
}

/** The worker's error as the class it was thrown as (the library errors keep their codes). */
function revived(message: Extract<FromKdWorker, { kind: 'error' }>): Error {
  if (message.name === 'TrainerError' && message.code) return new TrainerError(message.code as never, message.message);
  if (message.name === 'CodecError' && message.code) return new CodecError(message.code as never, message.message);
  if (message.name === 'AlignError' && message.code) return new AlignError(message.code as never, message.message);
  return new TrainerError('E_DATA', `teacher-row batches failed: ${message.message}`);
}

/** Opens the labels in the batch worker; `prefetch` batches are prepared ahead of the one asked for. */
export async function openLabelsBatches(labels: string, settings: SamplerSettings, prefetch = 4): Promise<TeacherBatches> {
  const worker = startTrainerWorker('kd-batch-worker', { ...settings, labels } satisfies KdBatchWorkerSettings);
  const inflight = new Map<number, { resolve: (batch: TeacherBatch) => void; reject: (error: Error) => void }>();
  const requested = new Map<number, Promise<TeacherBatch>>();
  let failure: Error | undefined;
  let closed = false;
  let resolveReady!: (info: Extract<FromKdWorker, { kind: 'ready' }>) => void;
  let rejectReady!: (error: Error) => void;
  const ready = new Promise<Extract<FromKdWorker, { kind: 'ready' }>>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  const failWith = (error: Error) => {
    failure ??= error;
    rejectReady(failure);
    for (const waiter of inflight.values()) waiter.reject(failure);
    inflight.clear();
  };
  worker.on('message', (message: FromKdWorker) => {
    if (message.kind === 'ready') resolveReady(message);
    else if (message.kind === 'error') failWith(revived(message));
    else {
      inflight.get(message.batch.position)?.resolve(message.batch);
      inflight.delete(message.batch.position);
    }
  });
  worker.on('error', (error) => failWith(new TrainerError('E_DATA', `teacher-row worker stopped: ${error.message}`, { cause: error })));
  worker.on('exit', (code) => {
    if (!closed) failWith(new TrainerError('E_DATA', `teacher-row worker exited early with code ${code}`));
  });
  const close = async () => {
    closed = true;
    await worker.terminate();
  };
  const request = (position: number): Promise<TeacherBatch> => {
    let promise = requested.get(position);
    if (!promise) {
      promise = failure ? Promise.reject(failure) : new Promise<TeacherBatch>((resolve, reject) => inflight.set(position, { resolve, reject }));
      // A batch asked for ahead may fail before anyone awaits it: the one awaited reports it.
      promise.catch(() => undefined);
      requested.set(position, promise);
      if (!failure) worker.postMessage({ kind: 'batch', position } satisfies ToKdWorker);
    }
    return promise;
  };
  try {
    const info = await ready;
    return {
      width: info.width,
      tokens: info.tokens,
      studentVocabSize: info.studentVocabSize,
      sampled: info.sampled,
      batchAt(position) {
        if (failure) return Promise.reject(failure);
        const promise = request(position);
        for (const earlier of requested.keys()) if (earlier <= position) requested.delete(earlier);
        for (let ahead = 1; ahead <= prefetch; ahead++) request(position + ahead);
        return promise;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
