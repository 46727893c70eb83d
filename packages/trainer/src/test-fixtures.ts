// Paths of the shared fixtures for tests and benchmarks, resolved from this file so they work
// from any working directory.
import { fileURLToPath } from 'node:url';
import type { TrainOptionsInput } from './train.js';

const shared = new URL('../../../../shared/', import.meta.url);

export const teacherDir = fileURLToPath(new URL('fixtures/teacher-llama-13m', shared));
export const teacherTokenizer = fileURLToPath(new URL('fixtures/teacher-llama-13m/tokenizer.json', shared));
/** The repository's example student tokenizer (8000 byte-level tokens). */
export const studentTokenizer = fileURLToPath(new URL('../../../examples/student-tokenizer/tokenizer.json', import.meta.url));
export const tinyWithPastDir = fileURLToPath(new URL('fixtures/tiny-llama-with-past', shared));
export const trainCorpus = fileURLToPath(new URL('corpus/train.jsonl', shared));
export const devCorpus = fileURLToPath(new URL('corpus/dev.jsonl', shared));

/** A small student shape for export tests: quick to build, the teacher's vocabulary. */
export const exportTestConfig = { vocabSize: 32000, hiddenSize: 32, intermediateSize: 64, layers: 2, heads: 4, keyValueHeads: 2, maxPositions: 128, initializerRange: 0.2, bosTokenId: 1, eosTokenId: 2 };

/** A one-layer run small enough for a test: 6 steps of 2 × 16 tokens, accumulated twice, on the wasm backend. */
export const tinyRunSettings = {
  model: { hiddenSize: 32, intermediateSize: 64, layers: 1, heads: 2, maxPositions: 64 },
  steps: 6,
  batchSize: 2,
  sequenceLength: 16,
  accumulate: 2,
  learningRate: 1e-2,
  warmupSteps: 2,
  seed: 5,
  checkpointEvery: 100,
  backend: 'wasm',
  threads: 2,
} satisfies Partial<TrainOptionsInput>;
