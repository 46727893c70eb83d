// The two training engines on one config, alternated step by step in one process (so machine
// load falls on both alike): milliseconds per optimizer step (forward + backward + AdamW) of the
// onnxruntime engine and of the tensorflow engine (TensorFlow.js, wasm backend), their ratio, and
// how far their loss curves drift apart from the same initial weights and batches.
// Run: npx tsx packages/trainer/bench/engines.ts [--steps 6] [--warmup 2] [--threads 2] [--objective ce|kd] [--json out.json]
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initializeBackend } from '../src/backend.js';
import { openBatchStream } from '../src/batches.js';
import { TrainingEngine, type EngineName, type ObjectiveSpec } from '../src/engine/engine.js';
import { createModel } from '../src/model.js';
import { trainCorpus, teacherTokenizer } from '../src/test-fixtures.js';
import { syntheticTargets } from './step.js';

export interface EngineComparison {
  config: string;
  objective: 'ce' | 'kd';
  threads: number;
  backend: string;
  steps: number;
  onnxruntimeMs: number;
  tensorflowMs: number;
  /** tensorflow ms / onnxruntime ms. */
  ratio: number;
  /** Largest |loss difference| / loss over the measured and warm-up steps. */
  lossDrift: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export async function compareEngines(options: { steps?: number; warmup?: number; threads?: number; objective?: 'ce' | 'kd' } = {}): Promise<EngineComparison> {
  const backend = await initializeBackend({ prefer: 'wasm' });
  const steps = options.steps ?? 6;
  const warmup = options.warmup ?? 2;
  const threads = options.threads ?? 2;
  const objectiveName = options.objective ?? 'ce';
  const size = { hiddenSize: 128, intermediateSize: 352, layers: 2, heads: 4, vocabSize: 8000, maxPositions: 128 };
  const batchSize = 4;
  const sequenceLength = 128;
  const teacherWidth = 32;
  const objective: ObjectiveSpec = objectiveName === 'kd' ? { name: 'kd', settings: { alpha: 0.5, temperature: 2, divergence: 'forward-kl', beta: 0.5 }, width: teacherWidth } : { name: 'ce' };
  const model = createModel(size, { seed: 1 });
  const config = model.config;
  const initial = new Map([...model.parameters].map(([name, variable]) => [name, (variable.dataSync() as Float32Array).slice()]));
  model.dispose();
  const engines = new Map<EngineName, TrainingEngine>();
  for (const name of ['onnxruntime', 'tensorflow'] as const) {
    engines.set(name, await TrainingEngine.create(name, config, initial, { objective, batchSize, sequenceLength, threads, weightDecay: 0.1, backend: backend.name }));
  }
  const stream = await openBatchStream({ corpus: trainCorpus, limit: 300, tokenizerPath: teacherTokenizer, sequenceLength, batchSize, seed: 1, startPosition: 0, bosId: 1, eosId: 2 });
  const times = { onnxruntime: [] as number[], tensorflow: [] as number[] };
  let lossDrift = 0;
  for (let step = 0; step < warmup + steps; step++) {
    // Token ids folded into the benchmark vocabulary; both engines get the same batch.
    const tokens = (await stream.next()).tokens.map((id) => id % size.vocabSize);
    const targets = objective.name === 'kd' ? syntheticTargets(batchSize * sequenceLength, teacherWidth, size.vocabSize, step + 1) : undefined;
    const losses: number[] = [];
    // Alternate which engine goes first, so neither always runs on a warmer cache.
    const order: EngineName[] = step % 2 === 0 ? ['onnxruntime', 'tensorflow'] : ['tensorflow', 'onnxruntime'];
    for (const name of order) {
      const engine = engines.get(name)!;
      const start = performance.now();
      const { loss, gradients } = await engine.gradients([{ tokens, targets }]);
      engine.apply(gradients, 3e-3, engine.norm(gradients), 1);
      const elapsed = performance.now() - start;
      if (step >= warmup) times[name].push(elapsed);
      losses.push(loss);
    }
    lossDrift = Math.max(lossDrift, Math.abs(losses[0] - losses[1]) / Math.abs(losses[0]));
  }
  await stream.close();
  for (const engine of engines.values()) await engine.release();
  const onnxruntimeMs = median(times.onnxruntime);
  const tensorflowMs = median(times.tensorflow);
  return {
    config: `d=${size.hiddenSize}, ${size.layers} layers, vocab ${size.vocabSize}, batch ${batchSize} × ${sequenceLength}`,
    objective: objectiveName,
    threads,
    backend: backend.description,
    steps,
    onnxruntimeMs,
    tensorflowMs,
    ratio: tensorflowMs / onnxruntimeMs,
    lossDrift,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { threads: { type: 'string', default: '2' }, steps: { type: 'string', default: '6' }, warmup: { type: 'string', default: '2' }, objective: { type: 'string', default: 'ce' }, json: { type: 'string' } } });
  const result = await compareEngines({ threads: Number(values.threads), steps: Number(values.steps), warmup: Number(values.warmup), objective: values.objective === 'kd' ? 'kd' : 'ce' });
  if (values.json) await writeFile(values.json, JSON.stringify(result, null, 1));
  console.log(JSON.stringify(result, null, 1));
}
