import * as tf from './tf.js';
import '@tensorflow/tfjs-backend-cpu';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { initializeBackend } from './backend.js';
import { crossEntropy } from './loss.js';
import { matMul, matMulTransposed } from './matmul.js';
import { createModel, modelFromWeights, type LanguageModel } from './model.js';

const tiny = { vocabSize: 50, hiddenSize: 32, intermediateSize: 48, layers: 2, heads: 4, keyValueHeads: 2, maxPositions: 64 };

beforeAll(async () => {
  await initializeBackend({ prefer: 'wasm' });
});

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let index = 0; index < a.length; index++) worst = Math.max(worst, Math.abs(a[index] - b[index]));
  return worst;
}

describe('backend', () => {
  it('runs on wasm and differentiates the embedding lookup (UnsortedSegmentSum kernel)', async () => {
    const info = await initializeBackend({ prefer: 'wasm' });
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    const table = tf.variable(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]));
    const gradients = tf.variableGrads(() => tf.sum(tf.mul(tf.gather(table, tf.tensor1d([2, 0, 2], 'int32')), tf.tensor2d([[1, 10], [100, 1000], [2, 20]]))), [table]);
    expect(Array.from(await gradients.grads[table.name].data())).toEqual([100, 1000, 0, 0, 3, 30]);
    table.dispose();
  });
});

describe('matMul with plain-product gradients', () => {
  it('matches the built-in gradients of a·b and a·bᵀ (2-D and batched)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.boolean(), (batch, rows, inner, columns, batched) => {
        tf.tidy(() => {
          const leftShape = batched ? [batch, rows, inner] : [rows, inner];
          const rightShape = batched ? [batch, inner, columns] : [inner, columns];
          const left = tf.randomNormal(leftShape, 0, 1, 'float32', rows * 7 + inner);
          const right = tf.randomNormal(rightShape, 0, 1, 'float32', columns * 13 + inner);
          const weights = tf.randomNormal(batched ? [batch, rows, columns] : [rows, columns], 0, 1, 'float32', 5);
          const ours = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(matMul(a, b), weights)))([left, right]);
          const reference = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.matMul(a, b), weights)))([left, right]);
          expect(maxDifference(ours[0].dataSync(), reference[0].dataSync())).toBeLessThan(1e-4);
          expect(maxDifference(ours[1].dataSync(), reference[1].dataSync())).toBeLessThan(1e-4);
          const rightTransposed = batched ? tf.transpose(right, [0, 2, 1]) : tf.transpose(right);
          const oursT = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(matMulTransposed(a, b), weights)))([left, rightTransposed]);
          const referenceT = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.matMul(a, b, false, true), weights)))([left, rightTransposed]);
          expect(maxDifference(oursT[0].dataSync(), referenceT[0].dataSync())).toBeLessThan(1e-4);
          expect(maxDifference(oursT[1].dataSync(), referenceT[1].dataSync())).toBeLessThan(1e-4);
        });
      }),
      { numRuns: 25 },
    );
  });
});

describe('crossEntropy', () => {
  it('equals −log softmax of the label, weighted, and its gradient is (softmax − onehot)·w/Σw', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 2, max: 9 }), fc.integer({ min: 0, max: 1000 }), (rows, vocab, seed) => {
        tf.tidy(() => {
          const logits = tf.mul(tf.randomNormal([rows, vocab], 0, 1, 'float32', seed), 5) as tf.Tensor2D;
          const labelValues = Int32Array.from({ length: rows }, (_, row) => (row * 7 + seed) % vocab);
          const weightValues = Float32Array.from({ length: rows }, (_, row) => ((row + seed) % 3 === 0 ? 0 : 1));
          weightValues[0] = 1;
          const labels = tf.tensor1d(labelValues, 'int32');
          const weights = tf.tensor1d(weightValues);
          const [gradient] = tf.grads((x: tf.Tensor) => crossEntropy(x as tf.Tensor2D, { labels, weights }))([logits]);
          const values = logits.dataSync();
          let expected = 0;
          let total = 0;
          const expectedGradient = new Float32Array(rows * vocab);
          for (let row = 0; row < rows; row++) {
            const slice = Array.from(values.subarray(row * vocab, (row + 1) * vocab));
            const top = Math.max(...slice);
            const normalizer = Math.log(slice.reduce((sum, value) => sum + Math.exp(value - top), 0)) + top;
            expected += weightValues[row] * (normalizer - slice[labelValues[row]]);
            total += weightValues[row];
            for (let column = 0; column < vocab; column++) {
              expectedGradient[row * vocab + column] = weightValues[row] * (Math.exp(slice[column] - normalizer) - (column === labelValues[row] ? 1 : 0));
            }
          }
          const loss = crossEntropy(logits, { labels, weights }).dataSync()[0];
          expect(loss).toBeCloseTo(expected / total, 4);
          expect(maxDifference(gradient.dataSync(), expectedGradient.map((value) => value / total))).toBeLessThan(1e-5);
        });
      }),
      { numRuns: 30 },
    );
  });
});

describe('Llama-style model', () => {
  it('initializes the same weights from the same seed and different ones from another', () => {
    const a = createModel(tiny, { seed: 3 });
    const b = createModel(tiny, { seed: 3 });
    const c = createModel(tiny, { seed: 4 });
    const name = 'model.layers.1.self_attn.k_proj.weight';
    expect(Array.from(a.parameters.get(name)!.dataSync())).toEqual(Array.from(b.parameters.get(name)!.dataSync()));
    expect(Array.from(a.parameters.get(name)!.dataSync())).not.toEqual(Array.from(c.parameters.get(name)!.dataSync()));
    expect(a.parameters.get('model.norm.weight')!.shape).toEqual([32]);
    for (const model of [a, b, c]) model.dispose();
  });

  it('is causal, and feeding a cache gives the same logits as the whole sequence', () => {
    const model = createModel(tiny, { seed: 1 });
    tf.tidy(() => {
      const ids = [[3, 9, 14, 2, 7, 30], [1, 1, 5, 40, 22, 8]];
      const full = model.forward(tf.tensor2d(ids, [2, 6], 'int32')).logits;
      expect(full.shape).toEqual([2, 6, 50]);
      // Changing a later token must not change earlier positions.
      const changed = model.forward(tf.tensor2d([[3, 9, 14, 2, 7, 31], [1, 1, 5, 40, 22, 9]], [2, 6], 'int32')).logits;
      expect(maxDifference(tf.slice(full, [0, 0, 0], [2, 5, 50]).dataSync(), tf.slice(changed, [0, 0, 0], [2, 5, 50]).dataSync())).toBe(0);
      const first = model.forward(tf.tensor2d(ids.map((row) => row.slice(0, 4)), [2, 4], 'int32'));
      const second = model.forward(tf.tensor2d(ids.map((row) => row.slice(4)), [2, 2], 'int32'), { past: first.present });
      expect(second.present[0].key.shape).toEqual([2, 2, 6, 8]);
      expect(maxDifference(second.logits.dataSync(), tf.slice(full, [0, 4, 0], [2, 2, 50]).dataSync())).toBeLessThan(1e-5);
    });
    model.dispose();
  });

  it('learns: a few gradient steps on one batch lower its loss', () => {
    const model = createModel(tiny, { seed: 2 });
    const variables = [...model.parameters.values()];
    const ids = tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 8]], [1, 8], 'int32');
    const labels = tf.tensor1d([2, 3, 4, 5, 6, 7, 8, 9], 'int32');
    const lossOf = () => crossEntropy(tf.reshape(model.forward(ids).logits, [8, 50]) as tf.Tensor2D, { labels });
    const before = tf.tidy(() => lossOf().dataSync()[0]);
    expect(before).toBeCloseTo(Math.log(50), 0);
    const optimizer = tf.train.sgd(0.5);
    for (let step = 0; step < 10; step++) tf.tidy(() => {
      optimizer.minimize(lossOf, false, variables);
    });
    const after = tf.tidy(() => lossOf().dataSync()[0]);
    expect(after).toBeLessThan(before - 1);
    model.dispose();
  });
});

describe('wasm training kernels', () => {
  it('give the loss and gradients of the plain tensor ops (CPU backend) for the whole model', async () => {
    const ids = [[3, 9, 14, 2, 7, 30, 1, 5, 12, 44], [1, 1, 5, 40, 22, 8, 49, 0, 17, 33]];
    const labels = [9, 14, 2, 7, 30, 1, 5, 12, 44, 3, 1, 5, 40, 22, 8, 49, 0, 17, 33, 6];
    const lossAndGradients = (model: LanguageModel) =>
      tf.tidy(() => {
        const names = [...model.parameters.keys()];
        const { value, grads } = tf.variableGrads(
          () => crossEntropy(tf.reshape(model.forward(tf.tensor2d(ids, [2, 10], 'int32')).logits, [20, 50]) as tf.Tensor2D, { labels: tf.tensor1d(labels, 'int32') }),
          names.map((name) => model.parameters.get(name)!),
        );
        return { loss: value.dataSync()[0], gradients: names.map((name) => grads[model.parameters.get(name)!.name].dataSync() as Float32Array) };
      });
    const model = createModel(tiny, { seed: 6 });
    const weights = new Map([...model.parameters].map(([name, value]) => [name, value.dataSync() as Float32Array]));
    const ours = lossAndGradients(model);
    model.dispose();
    await tf.setBackend('cpu');
    try {
      const reference = modelFromWeights(tiny, weights);
      const expected = lossAndGradients(reference);
      reference.dispose();
      expect(ours.loss).toBeCloseTo(expected.loss, 5);
      ours.gradients.forEach((gradient, index) => {
        const scale = Math.max(...expected.gradients[index].map(Math.abs));
        expect(maxDifference(gradient, expected.gradients[index])).toBeLessThan(1e-5 * Math.max(scale, 1e-3));
      });
    } finally {
      await tf.setBackend('wasm');
    }
  });
});
