// Where a training step's time goes, per operator: runs the training graph of the CE and the
// KD objective (α 0.5, forward KL, synthetic teacher rows as in step.ts) under onnxruntime's
// profiler and prints each graph's kernel time per operator type and its slowest nodes, so
// the extra cost of the distillation step over CE shows as the operators it adds.
// Run: npx tsx packages/trainer/bench/step-profile.ts [--hidden 128] [--temperature 2] [--width 32] [--categories token|prefix-group] [--threads 2] [--runs 8] [--top 12]
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initializeBackend } from '../src/backend.js';
import { engineObjective, type ObjectiveSpec } from '../src/engine/engine.js';
import { TrainingSession } from '../src/engine/session.js';
import { createModel } from '../src/model.js';
import { defaultSizes, syntheticTargets } from './step.js';

const { values } = parseArgs({
  options: {
    hidden: { type: 'string', default: '128' },
    temperature: { type: 'string', default: '2' },
    width: { type: 'string', default: '32' },
    categories: { type: 'string', default: 'token' },
    threads: { type: 'string', default: '2' },
    runs: { type: 'string', default: '8' },
    top: { type: 'string', default: '12' },
  },
});
const size = defaultSizes.find((candidate) => candidate.hiddenSize === Number(values.hidden)) ?? defaultSizes[0];
const { batchSize, sequenceLength, vocabSize } = size;
const rows = batchSize * sequenceLength;
const width = Number(values.width);
const runs = Number(values.runs);
await initializeBackend({ prefer: 'wasm' });
const model = createModel({ hiddenSize: size.hiddenSize, intermediateSize: size.intermediateSize, layers: size.layers, heads: size.heads, vocabSize, maxPositions: sequenceLength }, { seed: 1 });
const weights = new Map([...model.parameters].map(([name, variable]) => [name, (variable.dataSync() as Float32Array).slice()]));
const config = model.config;
model.dispose();
const specs: Record<string, ObjectiveSpec> = {
  ce: { name: 'ce' },
  kd: { name: 'kd', settings: { alpha: 0.5, temperature: Number(values.temperature), divergence: 'forward-kl', beta: 0.5, categories: values.categories === 'prefix-group' ? 'prefix-group' : 'token' }, width },
};
const inputs = new Int32Array(rows).map((_, index) => (index * 7919) % vocabSize);
const labels = new Int32Array(rows).map((_, index) => (index * 104729 + 3) % vocabSize);
const rowWeights = new Float32Array(rows).fill(1);
const targets = syntheticTargets(rows, width, vocabSize, 1);
const folder = await mkdtemp(join(tmpdir(), 'kd-step-profile-'));
console.log(`${size.name}, batch ${batchSize} × ${sequenceLength}, vocab ${vocabSize}, τ ${values.temperature}, ${width} teacher ids per row (${values.categories} categories), ${values.threads} thread(s); kernel ms per run, mean of ${runs} runs after 2 warm-ups`);
try {
  for (const name of ['ce', 'kd']) {
    const session = await TrainingSession.create(config, engineObjective(specs[name]), { batchSize, sequenceLength, threads: Number(values.threads), profilePrefix: join(folder, name) });
    for (let run = 0; run < runs + 2; run++) await session.run(weights, inputs, { rows, labels, rowWeights, targets });
    await session.release();
    const file = (await readdir(folder)).find((entry) => entry.startsWith(`${name}_`))!;
    const events = JSON.parse(await readFile(join(folder, file), 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
    // Each run's kernels in order: leave out the warm-up runs' events.
    const kernels = events.filter((event) => event.cat === 'Node' && event.name.endsWith('_kernel_time'));
    const perRun = kernels.length / (runs + 2);
    const measured = kernels.slice(perRun * 2);
    const byNode = new Map<string, number>();
    const byType = new Map<string, number>();
    for (const event of measured) {
      const key = `${event.name.replace('_kernel_time', '')} (${event.args?.op_name})`;
      byNode.set(key, (byNode.get(key) ?? 0) + event.dur / 1000 / runs);
      byType.set(event.args?.op_name ?? '?', (byType.get(event.args?.op_name ?? '?') ?? 0) + event.dur / 1000 / runs);
    }
    const total = [...byType.values()].reduce((sum, value) => sum + value, 0);
    console.log(`\n${name}: ${total.toFixed(1)} ms of kernels per run`);
    console.log(`  by operator: ${[...byType].sort((a, b) => b[1] - a[1]).filter(([, value]) => value >= 0.05).map(([type, value]) => `${type} ${value.toFixed(1)}`).join(', ')}`);
    for (const [node, value] of [...byNode].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) console.log(`  ${value.toFixed(2).padStart(8)}  ${node}`);
  }
} finally {
  await rm(folder, { recursive: true, force: true });
}
