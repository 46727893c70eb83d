import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../tf.js';
import { initializeBackend } from '../backend.js';
import { crossEntropy } from '../loss.js';
import { createModel, type LanguageModel } from '../model.js';
import { splitWindows } from '../step.js';
import { crossEntropyObjective } from './objective.js';
import { TrainingSession } from './session.js';

// Grouped heads (4 query, 2 key/value), two layers, a vocabulary small enough for finite differences.
const config = { vocabSize: 61, hiddenSize: 16, intermediateSize: 24, layers: 2, heads: 4, keyValueHeads: 2, maxPositions: 16, initializerRange: 0.3 };
const batchSize = 2;
const sequenceLength = 7;
const rows = batchSize * sequenceLength;
let model: LanguageModel;
let weights: Map<string, Float32Array>;
let session: TrainingSession;
const tokens = Int32Array.from({ length: batchSize * (sequenceLength + 1) }, (_, index) => (index * 17 + 5) % config.vocabSize);
const { inputs, labels } = splitWindows(tokens, batchSize, sequenceLength);
// The last position of the second row is padding.
const rowWeights = Float32Array.from({ length: rows }, (_, index) => (index === rows - 1 ? 0 : 1));

beforeAll(async () => {
  await initializeBackend({ prefer: 'wasm' });
  model = createModel(config, { seed: 4 });
  weights = new Map([...model.parameters].map(([name, variable]) => [name, variable.dataSync() as Float32Array]));
  session = await TrainingSession.create(model.config, crossEntropyObjective, { batchSize, sequenceLength, threads: 2 });
});

afterAll(async () => {
  await session?.release();
  model?.dispose();
});

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let index = 0; index < a.length; index++) sum += a[index] * b[index];
  return sum;
}

describe('training graph (onnxruntime)', () => {
  it('gives the loss and gradients of the TensorFlow.js model', async () => {
    const variables = [...model.parameters.values()];
    const reference = tf.variableGrads(() => {
      const logits = model.forward(tf.tensor2d(inputs, [batchSize, sequenceLength], 'int32')).logits;
      return crossEntropy(tf.reshape(logits, [rows, config.vocabSize]), { labels: tf.tensor1d(labels, 'int32'), weights: tf.tensor1d(rowWeights) });
    }, variables);
    const result = await session.run(weights, inputs, { rows, labels, rowWeights });
    expect(result.loss).toBeCloseTo(reference.value.dataSync()[0], 5);
    for (const [name, variable] of model.parameters) {
      const expected = reference.grads[variable.name].dataSync();
      const actual = result.gradients.get(name)!;
      const scale = Math.max(...Array.from(expected, Math.abs));
      expect(scale).toBeGreaterThan(0);
      let worst = 0;
      for (let index = 0; index < expected.length; index++) worst = Math.max(worst, Math.abs(actual[index] - expected[index]));
      expect(worst / scale, name).toBeLessThan(1e-4);
    }
    reference.value.dispose();
    for (const gradient of Object.values(reference.grads)) gradient.dispose();
  });

  it('agrees with central finite differences along a random direction of every weight', async () => {
    const base = await session.run(weights, inputs, { rows, labels, rowWeights });
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    for (const [name, values] of weights) {
      const direction = Float32Array.from(values, () => random());
      const step = 1e-2 / Math.sqrt(direction.length);
      const shifted = (sign: number) => new Map([...weights].map(([other, data]) => [other, other === name ? data.map((value, index) => value + sign * step * direction[index]) : data]));
      const plus = await session.run(shifted(1), inputs, { rows, labels, rowWeights });
      const minus = await session.run(shifted(-1), inputs, { rows, labels, rowWeights });
      const numeric = (plus.loss - minus.loss) / (2 * step);
      const analytic = dot(base.gradients.get(name)!, direction);
      expect(Math.abs(numeric - analytic), `${name}: numeric ${numeric}, analytic ${analytic}`).toBeLessThan(2e-3 + 2e-2 * Math.abs(analytic));
    }
  });

  it('repeats a step bit for bit with the same thread count', async () => {
    const first = await session.run(weights, inputs, { rows, labels, rowWeights });
    const second = await session.run(weights, inputs, { rows, labels, rowWeights });
    expect(second.loss).toBe(first.loss);
    for (const [name, gradient] of first.gradients) expect(second.gradients.get(name)).toEqual(gradient);
  });
});
