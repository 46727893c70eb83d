// The trainer's side of the data worker: streams corpus documents (task templates applied)
// to it and hands out prepared micro-batches, requesting more as it consumes them so input is
// ready before each step asks.
import { readCorpus, type CorpusTask } from '@kd/text';
import { TrainerError } from './errors.js';
import type { BatchWorkerSettings, FromWorker, ToWorker } from './batch-worker.js';
import { startTrainerWorker } from './worker-start.js';

export interface BatchStreamOptions {
  corpus: string;
  tasks?: readonly CorpusTask[];
  limit?: number;
  tokenizerPath: string;
  sequenceLength: number;
  batchSize: number;
  seed: number;
  /** Micro-batches already consumed (resume). */
  startPosition: number;
  bosId?: number;
  eosId: number;
  /** Micro-batches kept ready ahead of the trainer (default 4). */
  prefetch?: number;
}

export interface MicroBatch {
  position: number;
  epoch: number;
  /** [batchSize, sequenceLength + 1] token ids, row-major. */
  tokens: Int32Array;
}

export interface BatchStream {
  readonly tokens: number;
  readonly windows: number;
  readonly documents: number;
  next(): Promise<MicroBatch>;
  close(): Promise<void>;
}

/** Starts the data worker and feeds it the corpus; resolves once the token stream is built. */
export async function openBatchStream(options: BatchStreamOptions): Promise<BatchStream> {
  const settings: BatchWorkerSettings = {
    tokenizerPath: options.tokenizerPath,
    sequenceLength: options.sequenceLength,
    batchSize: options.batchSize,
    seed: options.seed,
    startPosition: options.startPosition,
    bosId: options.bosId,
    eosId: options.eosId,
  };
  const worker = startTrainerWorker('batch-worker', settings);
  const prefetch = options.prefetch ?? 4;
  const ready: MicroBatch[] = [];
  const waiting: Array<{ resolve: (batch: MicroBatch) => void; reject: (error: Error) => void }> = [];
  let failure: Error | undefined;
  let resolveReady!: (info: { tokens: number; windows: number; documents: number }) => void;
  let rejectReady!: (error: Error) => void;
  const readyPromise = new Promise<{ tokens: number; windows: number; documents: number }>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  const send = (message: ToWorker) => worker.postMessage(message);
  const failWith = (error: Error) => {
    failure = error;
    rejectReady(error);
    for (const waiter of waiting.splice(0)) waiter.reject(error);
  };
  worker.on('message', (message: FromWorker) => {
    if (message.kind === 'ready') resolveReady(message);
    else if (message.kind === 'error') failWith(new TrainerError('E_DATA', `data preparation failed: ${message.message}`));
    else {
      const batch = { position: message.position, epoch: message.epoch, tokens: message.tokens };
      const waiter = waiting.shift();
      if (waiter) waiter.resolve(batch);
      else ready.push(batch);
    }
  });
  worker.on('error', (error) => failWith(new TrainerError('E_DATA', `data worker stopped: ${error.message}`, { cause: error })));
  let closed = false;
  worker.on('exit', (code) => {
    if (!closed) failWith(new TrainerError('E_DATA', `data worker exited early with code ${code}`));
  });
  const close = async () => {
    closed = true;
    await worker.terminate();
  };

  try {
    let chunk: string[] = [];
    for await (const document of readCorpus(options.corpus, { tasks: options.tasks, limit: options.limit })) {
      chunk.push(document.text);
      if (chunk.length === 256) {
        send({ kind: 'documents', texts: chunk });
        chunk = [];
      }
      if (failure) throw failure;
    }
    if (chunk.length > 0) send({ kind: 'documents', texts: chunk });
    send({ kind: 'end' });
    const info = await readyPromise;
    if (info.windows === 0) {
      throw new TrainerError(
        'E_DATA',
        `corpus ${options.corpus} gives ${info.tokens} tokens, fewer than one window of ${options.sequenceLength + 1}; add text or lower the sequence length`,
      );
    }
    send({ kind: 'request', count: prefetch });
    return {
      tokens: info.tokens,
      windows: info.windows,
      documents: info.documents,
      next: () => {
        if (failure) return Promise.reject(failure);
        send({ kind: 'request', count: 1 });
        const batch = ready.shift();
        if (batch) return Promise.resolve(batch);
        return new Promise<MicroBatch>((resolve, reject) => waiting.push({ resolve, reject }));
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
