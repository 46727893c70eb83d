// Worker thread that prepares training data off the training thread: it frames the documents
// it is sent with @kd/text (BOS + tokens + EOS, the run's ids), joins them into one stream, and keeps a few micro-batches ready
// ahead of the trainer (credit-based, so memory stays bounded).
import { parentPort, workerData } from 'node:worker_threads';
import { loadTokenizer } from '@kd/text';
import { WindowSampler } from './windows.js';

export interface BatchWorkerSettings {
  tokenizerPath: string;
  sequenceLength: number;
  batchSize: number;
  seed: number;
  startPosition: number;
  bosId?: number;
  eosId: number;
}

export type ToWorker = { kind: 'documents'; texts: string[] } | { kind: 'end' } | { kind: 'request'; count: number };
export type FromWorker =
  | { kind: 'ready'; tokens: number; windows: number; documents: number }
  | { kind: 'batch'; position: number; epoch: number; tokens: Int32Array }
  | { kind: 'error'; message: string };

const port = parentPort!;
const settings = workerData as BatchWorkerSettings;
// The run's marker ids (from its model config) frame every document, also on resume.
const tokenizer = loadTokenizer(settings.tokenizerPath, { specialTokens: { bos: settings.bosId ?? null, eos: settings.eosId } });
tokenizer.catch(() => undefined); // a load failure is reported by the first tokenize() that awaits it
const pieces: Int32Array[] = [];
let documents = 0;
let pending: Promise<void> = Promise.resolve();
let sampler: WindowSampler | undefined;
let nextPosition = settings.startPosition;
let credit = 0;

function fail(error: unknown): void {
  port.postMessage({ kind: 'error', message: error instanceof Error ? error.message : String(error) } satisfies FromWorker);
}

async function tokenize(texts: string[]): Promise<void> {
  const framed = await (await tokenizer).frameBatch(texts);
  for (const { ids } of framed) {
    pieces.push(Int32Array.from(ids));
    documents++;
  }
}

function finish(): void {
  const total = pieces.reduce((sum, piece) => sum + piece.length, 0);
  const stream = new Int32Array(total);
  let offset = 0;
  for (const piece of pieces) {
    stream.set(piece, offset);
    offset += piece.length;
  }
  pieces.length = 0;
  sampler = new WindowSampler(stream, settings);
  port.postMessage({ kind: 'ready', tokens: total, windows: sampler.windows, documents } satisfies FromWorker);
  serve();
}

function serve(): void {
  if (!sampler || sampler.windows === 0) return;
  while (credit > 0) {
    credit--;
    const { tokens, epoch } = sampler.batchAt(nextPosition);
    port.postMessage({ kind: 'batch', position: nextPosition, epoch, tokens } satisfies FromWorker, [tokens.buffer as ArrayBuffer]);
    nextPosition++;
  }
}

port.on('message', (message: ToWorker) => {
  if (message.kind === 'documents') {
    pending = pending.then(() => tokenize(message.texts)).catch(fail);
  } else if (message.kind === 'end') {
    pending = pending.then(finish).catch(fail);
  } else {
    credit += message.count;
    serve();
  }
});
