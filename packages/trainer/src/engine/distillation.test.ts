import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { distillationLossReference, type DistillationSettings, type SoftTargets } from '../kd-divergence.js';
import { GraphBuilder } from '../onnx-graph.js';
import { createDistillationEngineObjective } from './distillation.js';
import type { EngineObjective } from './objective.js';

/** The objective alone in a graph: logits in, loss and dLogits out. */
async function objectiveSession(objective: EngineObjective<SoftTargets>, rows: number, vocab: number) {
  const graph = new GraphBuilder();
  const logits = graph.input('logits', 'float', [rows, vocab]);
  const labels = graph.input('labels', 'int64', [rows, 1]);
  const rowWeights = graph.input('row_weights', 'float', [rows]);
  const outputs = objective.build(graph, { logits, labels, rowWeights, rows, vocab });
  graph.op('Identity', [outputs.loss], {}, 'loss');
  graph.op('Identity', [outputs.dLogits], {}, 'd_logits');
  graph.output('loss', 'float', []);
  graph.output('d_logits', 'float', [rows, vocab]);
  for (const [name, value] of Object.entries(outputs.metrics ?? {})) {
    graph.op('Identity', [value], {}, `metric.${name}`);
    graph.output(`metric.${name}`, 'float', []);
  }
  const session = await ort.InferenceSession.create(graph.encode({ name: 'objective', producer: 'kd', opset: 17 }), { intraOpNumThreads: 1 });
  return async (input: { logits: Float32Array; labels: Int32Array; weights: Float32Array; soft?: SoftTargets }) => {
    const feeds: Record<string, ort.Tensor> = {
      logits: new ort.Tensor('float32', input.logits, [rows, vocab]),
      labels: new ort.Tensor('int64', BigInt64Array.from(input.labels, BigInt), [rows, 1]),
      row_weights: new ort.Tensor('float32', input.weights, [rows]),
    };
    for (const [name, tensor] of Object.entries(objective.feeds({ rows, labels: input.labels, rowWeights: input.weights, targets: input.soft }))) {
      feeds[name] = new ort.Tensor(tensor.type, tensor.data, tensor.dims);
    }
    const result = await session.run(feeds);
    return { loss: (result.loss.data as Float32Array)[0], gradient: result.d_logits.data as Float32Array, ce: (result['metric.ce'].data as Float32Array)[0], kd: (result['metric.kd'].data as Float32Array)[0] };
  };
}

const rows = 6;
const vocab = 40;
const width = 5;
let seed = 11;
const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;

function sample(tail: 'renormalize' | 'bucket') {
  const logits = Float32Array.from({ length: rows * vocab }, () => (random() - 0.5) * 6);
  const labels = Int32Array.from({ length: rows }, () => Math.floor(random() * vocab));
  const weights = Float32Array.from({ length: rows }, (_, row) => (row === 4 ? 0 : 1 + row * 0.25));
  const ids = new Int32Array(rows * width);
  const probs = new Float32Array(rows * width);
  const residual = new Float32Array(rows);
  const present = Uint8Array.from({ length: rows }, (_, row) => (row === 2 ? 0 : 1));
  for (let row = 0; row < rows; row++) {
    let mass = 0;
    for (let k = 0; k < width; k++) {
      // Collisions: entry 3 repeats entry 1's id.
      ids[row * width + k] = k === 3 ? ids[row * width + 1] : Math.floor(random() * vocab);
      probs[row * width + k] = random() + 0.05;
      mass += probs[row * width + k];
    }
    const kept = tail === 'bucket' ? 0.8 : 1;
    for (let k = 0; k < width; k++) probs[row * width + k] *= kept / mass;
    residual[row] = 1 - kept;
  }
  return { logits, labels, weights, soft: { rows, width, ids, probs, residual, present } satisfies SoftTargets };
}

describe('distillation objective on the engine', () => {
  const cases: Array<[DistillationSettings, 'renormalize' | 'bucket']> = [
    [{ alpha: 0.7, temperature: 1, divergence: 'forward-kl', beta: 0.5 }, 'renormalize'],
    [{ alpha: 0.5, temperature: 2, divergence: 'forward-kl', beta: 0.5 }, 'bucket'],
    [{ alpha: 0.6, temperature: 1.5, divergence: 'reverse-kl', beta: 0.5 }, 'bucket'],
    [{ alpha: 1, temperature: 1, divergence: 'reverse-kl', beta: 0.5 }, 'renormalize'],
    [{ alpha: 0.4, temperature: 2, divergence: 'jsd', beta: 0.3 }, 'bucket'],
    [{ alpha: 0.8, temperature: 1, divergence: 'jsd', beta: 0.5 }, 'renormalize'],
  ];
  it.each(cases)('matches the float64 reference: %o, tail %s', async (settings, tail) => {
    const evaluate = await objectiveSession(createDistillationEngineObjective(settings), rows, vocab);
    const input = sample(tail);
    const reference = distillationLossReference({ logits: input.logits, vocab, labels: input.labels, weights: input.weights, targets: input.soft, settings });
    const result = await evaluate(input);
    expect(result.loss).toBeCloseTo(reference.loss, 4);
    let largest = 0;
    for (let index = 0; index < reference.gradient.length; index++) largest = Math.max(largest, Math.abs(reference.gradient[index]));
    expect(largest).toBeGreaterThan(1e-3);
    for (let index = 0; index < reference.gradient.length; index++) expect(Math.abs(result.gradient[index] - reference.gradient[index])).toBeLessThan(2e-6 + 1e-4 * largest);
    // The weight-0 row gets no gradient; metric ce is the plain weighted cross-entropy.
    for (let i = 0; i < vocab; i++) expect(result.gradient[4 * vocab + i]).toBe(0);
    const ce = distillationLossReference({ logits: input.logits, vocab, labels: input.labels, weights: input.weights });
    expect(result.ce).toBeCloseTo(ce.loss, 4);
    expect(result.kd).toBeGreaterThan(0);
  });

  it('is cross-entropy where no row has a teacher', async () => {
    const settings: DistillationSettings = { alpha: 0.5, temperature: 2, divergence: 'forward-kl', beta: 0.5 };
    const evaluate = await objectiveSession(createDistillationEngineObjective(settings), rows, vocab);
    const input = sample('bucket');
    const result = await evaluate({ ...input, soft: undefined });
    const ce = distillationLossReference({ logits: input.logits, vocab, labels: input.labels, weights: input.weights });
    expect(result.loss).toBeCloseTo(ce.loss, 5);
    for (let index = 0; index < ce.gradient.length; index++) expect(result.gradient[index]).toBeCloseTo(ce.gradient[index], 6);
  });
});
