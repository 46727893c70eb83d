// Step-time benchmark of the trainer's engine: for two model sizes, the time of the forward
// pass (loss only), the backward pass, the optimizer update (clip + AdamW) and the wait for
// data, training tokens per second and achieved GFLOP/s (the FLOP count of
// ../shared/bench/torch_step.py, so the two compare).
// Run: npx tsx packages/trainer/bench/step.ts [--threads 2] [--steps 10] [--warmup 3] [--objective ce|kd] [--json out.json]
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initializeBackend } from '../src/backend.js';
import { openBatchStream } from '../src/batches.js';
import type { ModelConfig } from '../src/config.js';
import { engineObjective, TrainingEngine, type ObjectiveSpec } from '../src/engine/engine.js';
import type { SoftTargets } from '../src/kd-divergence.js';
import { TrainingSession } from '../src/engine/session.js';
import { createModel } from '../src/model.js';
import { splitWindows } from '../src/step.js';
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
  objective: string;
  engine: string;
  threads: number;
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
  gflops: number;
}

export const defaultSizes: BenchSize[] = [
  { name: 'small (d=128, 2 layers)', hiddenSize: 128, intermediateSize: 352, layers: 2, heads: 4, vocabSize: 8000, batchSize: 8, sequenceLength: 128 },
  { name: 'base (d=256, 2 layers)', hiddenSize: 256, intermediateSize: 688, layers: 2, heads: 4, vocabSize: 8000, batchSize: 8, sequenceLength: 128 },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Floating-point operations of one training step, counted as torch_step.py counts them. */
export function stepFlops(config: ModelConfig, batchSize: number, sequenceLength: number): number {
  const { hiddenSize: d, intermediateSize, layers, vocabSize, heads, keyValueHeads, headSize } = config;
  const tokens = batchSize * sequenceLength;
  const matrices = layers * (d * headSize * (2 * heads + 2 * keyValueHeads) + 3 * d * intermediateSize);
  const attention = layers * 3 * (2 * 2 * batchSize * heads * sequenceLength * sequenceLength * headSize);
  return 6 * matrices * tokens + attention + 6 * d * vocabSize * tokens;
}

export interface BenchOptions {
  sizes?: BenchSize[];
  steps?: number;
  warmup?: number;
  threads?: number;
  /** `kd`: distillation (α 0.5, τ 2, forward KL, tail as a bucket) on synthetic teacher rows of `teacherWidth` ids. */
  objective?: 'ce' | 'kd';
  teacherWidth?: number;
}

/** Teacher rows for the benchmark: `width` distinct-ish ids per row (some repeat), descending probabilities, 10% tail. */
export function syntheticTargets(rows: number, width: number, vocab: number, seed: number): SoftTargets {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2147483648);
  const ids = new Int32Array(rows * width);
  const probs = new Float32Array(rows * width);
  for (let row = 0; row < rows; row++) {
    let mass = 0;
    for (let k = 0; k < width; k++) {
      ids[row * width + k] = next() % vocab;
      probs[row * width + k] = 1 / (k + 1);
      mass += 1 / (k + 1);
    }
    for (let k = 0; k < width; k++) probs[row * width + k] *= 0.9 / mass;
  }
  return { rows, width, ids, probs, residual: new Float32Array(rows).fill(0.1), present: new Uint8Array(rows).fill(1) };
}

/** Measures each size for `steps` steps after `warmup` steps; returns one row per size. */
export async function benchTraining(options: BenchOptions = {}): Promise<BenchRow[]> {
  await initializeBackend({ prefer: 'wasm' });
  const steps = options.steps ?? 10;
  const warmup = options.warmup ?? 3;
  const threads = options.threads ?? 2;
  const kd = options.objective === 'kd';
  const teacherWidth = options.teacherWidth ?? 32;
  const spec: ObjectiveSpec = kd ? { name: 'kd', settings: { alpha: 0.5, temperature: 2, divergence: 'forward-kl', beta: 0.5 }, width: teacherWidth } : { name: 'ce' };
  const objective = engineObjective(spec);
  const rows: BenchRow[] = [];
  for (const size of options.sizes ?? defaultSizes) {
    const { hiddenSize, intermediateSize, layers, heads, vocabSize, batchSize, sequenceLength } = size;
    const model = createModel({ hiddenSize, intermediateSize, layers, heads, vocabSize, maxPositions: sequenceLength }, { seed: 1 });
    const config = model.config;
    const initial = new Map([...model.parameters].map(([name, variable]) => [name, (variable.dataSync() as Float32Array).slice()]));
    model.dispose();
    const engine = await TrainingEngine.create('onnxruntime', config, initial, { objective: spec, batchSize, sequenceLength, threads });
    const forward = await TrainingSession.create(config, objective, { batchSize, sequenceLength, threads, forwardOnly: true });
    const weights = new Map([...engine.parameters].map(([name, parameter]) => [name, parameter.dataSync()]));
    // Data: the real worker over the real corpus (teacher tokenizer); token ids folded into the
    // benchmark vocabulary, since only the wait matters here.
    const stream = await openBatchStream({ corpus: trainCorpus, limit: 300, tokenizerPath: teacherTokenizer, sequenceLength, batchSize, seed: 1, startPosition: 0, bosId: 1, eosId: 2 });
    const timings = { forward: [] as number[], gradients: [] as number[], optimizer: [] as number[], data: [] as number[], step: [] as number[] };
    for (let step = 0; step < warmup + steps; step++) {
      const stepStart = performance.now();
      const tokens = (await stream.next()).tokens.map((id) => id % vocabSize);
      const afterData = performance.now();
      const { inputs, labels } = splitWindows(tokens, batchSize, sequenceLength);
      const targets = kd ? syntheticTargets(batchSize * sequenceLength, teacherWidth, vocabSize, step + 1) : undefined;
      await forward.run(weights, inputs, { rows: batchSize * sequenceLength, labels, rowWeights: new Float32Array(batchSize * sequenceLength).fill(1), targets });
      const afterForward = performance.now();
      const { gradients } = await engine.gradients([{ tokens, targets }]);
      const afterGradients = performance.now();
      engine.apply(gradients, 1e-3, engine.norm(gradients), 1);
      const end = performance.now();
      if (step < warmup) continue;
      timings.data.push(afterData - stepStart);
      timings.forward.push(afterForward - afterData);
      timings.gradients.push(afterGradients - afterForward);
      timings.optimizer.push(end - afterGradients);
      // The step a training run takes: data, forward + backward, optimizer (not the separate forward).
      timings.step.push(afterData - stepStart + (end - afterForward));
    }
    await stream.close();
    await forward.release();
    await engine.release();
    const stepMs = median(timings.step);
    const forwardMs = median(timings.forward);
    rows.push({
      size: size.name,
      objective: objective.name,
      engine: 'onnxruntime',
      threads,
      parameters: [...engine.parameters.values()].reduce((sum, value) => sum + value.size, 0),
      batchSize,
      sequenceLength,
      vocabSize,
      forwardMs,
      // The gradient graph runs the forward too; its backward share is the difference.
      backwardMs: median(timings.gradients) - forwardMs,
      optimizerMs: median(timings.optimizer),
      dataMs: median(timings.data),
      stepMs,
      tokensPerSecond: (batchSize * sequenceLength) / (stepMs / 1000),
      gflops: stepFlops(config, batchSize, sequenceLength) / (stepMs / 1000) / 1e9,
    });
  }
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { threads: { type: 'string', default: '2' }, steps: { type: 'string', default: '10' }, objective: { type: 'string', default: 'ce' }, warmup: { type: 'string', default: '3' }, json: { type: 'string' } } });
  const rows = await benchTraining({ threads: Number(values.threads), steps: Number(values.steps), warmup: Number(values.warmup), objective: values.objective === 'kd' ? 'kd' : 'ce' });
  if (values.json) await writeFile(values.json, JSON.stringify(rows, null, 1));
  console.table(rows.map((row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, typeof value === 'number' && !Number.isInteger(value) ? Number(value.toFixed(1)) : value]))));
}
