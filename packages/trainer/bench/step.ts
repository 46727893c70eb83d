// Step-time benchmark of the trainer: for two model sizes, the time of the forward pass, the
// backward pass, the optimizer update and the wait for data, and training tokens per second.
// Run: npx tsx packages/trainer/bench/step.ts
import * as tf from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { initializeBackend } from '../src/backend.js';
import { openBatchStream } from '../src/batches.js';
import { createObjective } from '../src/loss.js';
import { createModel } from '../src/model.js';
import { AdamW, clipByGlobalNorm } from '../src/optimizer.js';
import { accumulateGradients, batchLoss } from '../src/step.js';
import { trainCorpus, teacherTokenizer } from '../src/test-fixtures.js';

export interface BenchSize {
  name: string;
  hiddenSize: number;
  intermediateSize: number;
  layers: number;
  heads: number;
  vocabSize: number;
  batchSize: number;
  sequenceLength: number;
}

export interface BenchRow {
  size: string;
  backend: string;
  parameters: number;
  batchSize: number;
  sequenceLength: number;
  vocabSize: number;
  forwardMs: number;
  backwardMs: number;
  optimizerMs: number;
  dataMs: number;
  stepMs: number;
  tokensPerSecond: number;
}

export const defaultSizes: BenchSize[] = [
  { name: 'small (d=128, 2 layers)', hiddenSize: 128, intermediateSize: 352, layers: 2, heads: 4, vocabSize: 8000, batchSize: 8, sequenceLength: 128 },
  { name: 'base (d=256, 2 layers)', hiddenSize: 256, intermediateSize: 688, layers: 2, heads: 4, vocabSize: 8000, batchSize: 8, sequenceLength: 128 },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Measures each size for `steps` steps after one warm-up step; returns one row per size. */
export async function benchTraining(options: { sizes?: BenchSize[]; steps?: number; backend?: 'auto' | 'wasm' } = {}): Promise<BenchRow[]> {
  const backend = await initializeBackend({ prefer: options.backend ?? 'auto' });
  const steps = options.steps ?? 5;
  const objective = createObjective('ce');
  const rows: BenchRow[] = [];
  for (const size of options.sizes ?? defaultSizes) {
    const { hiddenSize, intermediateSize, layers, heads, vocabSize } = size;
    const model = createModel({ hiddenSize, intermediateSize, layers, heads, vocabSize, maxPositions: size.sequenceLength }, { seed: 1 });
    const optimizer = new AdamW(model.parameters);
    // Data: the real worker over the real corpus (teacher tokenizer); token ids folded into the
    // benchmark vocabulary, since only the wait matters here.
    const stream = await openBatchStream({
      corpus: trainCorpus,
      limit: 2000,
      tokenizerPath: teacherTokenizer,
      sequenceLength: size.sequenceLength,
      batchSize: size.batchSize,
      seed: 1,
      startPosition: 0,
      bosId: 1,
      eosId: 2,
    });
    const timings = { forward: [] as number[], backward: [] as number[], optimizer: [] as number[], data: [] as number[], step: [] as number[] };
    for (let step = 0; step <= steps; step++) {
      const stepStart = performance.now();
      const batch = await stream.next();
      const tokens = batch.tokens.map((id) => id % size.vocabSize);
      const afterData = performance.now();
      tf.tidy(() => batchLoss(model, objective, tokens, size.batchSize, size.sequenceLength).dataSync());
      const afterForward = performance.now();
      const { gradients } = accumulateGradients(model, objective, [tokens], size.batchSize, size.sequenceLength);
      const afterBackward = performance.now();
      clipByGlobalNorm(gradients, 1);
      optimizer.apply(gradients, 1e-3);
      for (const gradient of gradients.values()) gradient.dispose();
      model.parameters.get('model.norm.weight')!.dataSync();
      const end = performance.now();
      if (step === 0) continue;
      const forward = afterForward - afterData;
      timings.data.push(afterData - stepStart);
      timings.forward.push(forward);
      // The gradient pass recomputes the forward; its backward share is the difference.
      timings.backward.push(afterBackward - afterForward - forward);
      timings.optimizer.push(end - afterBackward);
      timings.step.push(end - stepStart - forward);
    }
    await stream.close();
    const stepMs = median(timings.step);
    rows.push({
      size: size.name,
      backend: backend.name,
      parameters: [...model.parameters.values()].reduce((sum, value) => sum + value.size, 0),
      batchSize: size.batchSize,
      sequenceLength: size.sequenceLength,
      vocabSize: size.vocabSize,
      forwardMs: median(timings.forward),
      backwardMs: median(timings.backward),
      optimizerMs: median(timings.optimizer),
      dataMs: median(timings.data),
      stepMs,
      tokensPerSecond: (size.batchSize * size.sequenceLength) / (stepMs / 1000),
    });
    optimizer.dispose();
    model.dispose();
  }
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rows = await benchTraining();
  console.table(rows.map((row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, typeof value === 'number' && !Number.isInteger(value) ? Number(value.toFixed(1)) : value]))));
}
