import * as tf from '../tf.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { initializeBackend } from '../backend.js';
import { AdamW, clipByGlobalNorm } from '../optimizer.js';
import { ArrayAdamW, clipScale, globalNorm } from './adamw.js';

beforeAll(async () => {
  await initializeBackend({ prefer: 'wasm' });
});

const values = (length: number, seed: number) => Float32Array.from({ length }, (_, index) => Math.sin(index * 1.7 + seed) * 0.5);

describe('ArrayAdamW', () => {
  it('follows the TensorFlow.js AdamW over three steps (matrices decay, gains do not)', () => {
    const matrix = values(12, 1);
    const gain = values(4, 2);
    const parameters = new Map([['w', matrix.slice()], ['g', gain.slice()]]);
    const optimizer = new ArrayAdamW(parameters, new Set(['w']), { weightDecay: 0.1 });
    const variables = new Map<string, tf.Variable>([['w', tf.variable(tf.tensor2d(matrix, [3, 4]))], ['g', tf.variable(tf.tensor1d(gain))]]);
    const reference = new AdamW(variables, { weightDecay: 0.1 });
    for (let step = 0; step < 3; step++) {
      const gradients = new Map([['w', values(12, 10 + step)], ['g', values(4, 20 + step)]]);
      optimizer.apply(gradients, 0.05);
      reference.apply(new Map<string, tf.Tensor>([['w', tf.tensor2d(gradients.get('w')!, [3, 4])], ['g', tf.tensor1d(gradients.get('g')!)]]), 0.05);
    }
    for (const name of ['w', 'g']) {
      const expected = variables.get(name)!.dataSync();
      const actual = parameters.get(name)!;
      for (let index = 0; index < actual.length; index++) expect(actual[index]).toBeCloseTo(expected[index], 6);
    }
    expect(parameters.get('w')).not.toEqual(matrix);
    // The state round-trips: a restored optimizer takes the same next step.
    const copy = new Map([...parameters].map(([name, data]) => [name, data.slice()]));
    const restored = new ArrayAdamW(copy, new Set(['w']), { weightDecay: 0.1 });
    restored.restore(optimizer.state(), optimizer.step);
    const next = new Map([['w', values(12, 30)], ['g', values(4, 31)]]);
    optimizer.apply(next, 0.05);
    restored.apply(next, 0.05);
    expect(copy).toEqual(parameters);
    reference.dispose();
  });

  it('clips to the global norm like clipByGlobalNorm and reports non-finite norms', () => {
    const gradients = new Map([['a', values(10, 3).map((value) => value * 10)], ['b', values(5, 4)]]);
    const tensors = new Map<string, tf.Tensor>([...gradients].map(([name, data]) => [name, tf.tensor1d(data)]));
    const expectedNorm = clipByGlobalNorm(tensors, 1);
    const norm = globalNorm(gradients);
    expect(norm).toBeCloseTo(expectedNorm, 4);
    expect(norm).toBeGreaterThan(1);
    const scale = clipScale(norm, 1);
    for (const [name, data] of gradients) {
      const expected = tensors.get(name)!.dataSync();
      for (let index = 0; index < data.length; index++) expect(data[index] * scale).toBeCloseTo(expected[index], 6);
    }
    expect(clipScale(0.5, 1)).toBe(1);
    expect(clipScale(norm, 0)).toBe(1);
    expect(globalNorm(new Map([['a', Float32Array.of(1, Number.NaN)]]))).toBeNaN();
  });
});
