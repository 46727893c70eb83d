import { beforeAll, describe, expect, it } from 'vitest';
import { initializeBackend } from './backend.js';
import type { DistillationSettings, Divergence, TailTreatment } from './kd-divergence.js';
import { certainTeacher, matchingTeacher, pairedCategories, rows, sample, vocab, width } from './kd-test-batches.js';
import { createDistillationObjective } from './kd-loss.js';
import { createObjective } from './loss.js';
import { engineObjective, referenceObjective, testObjective } from './objective-suite.js';

beforeAll(async () => {
  await initializeBackend({ prefer: 'wasm' });
});

testObjective('ce (engine)', { evaluate: engineObjective(createObjective('ce')), sample: () => sample('renormalize'), atTarget: certainTeacher });
testObjective('ce (reference)', {
  evaluate: referenceObjective(),
  sample: () => sample('renormalize'),
  atTarget: certainTeacher,
  zeroTolerance: 1e-12,
  // A power of two: the float32 logits move by exactly the step.
  finiteDifference: { step: 2 ** -10, absolute: 1e-6, relative: 1e-4 },
});

const divergences: Divergence[] = ['forward-kl', 'reverse-kl', 'jsd'];
const tails: TailTreatment[] = ['renormalize', 'bucket'];
for (const divergence of divergences) {
  for (const tail of tails) {
    const pure: DistillationSettings = { alpha: 1, temperature: 1, divergence, beta: 0.5 };
    const mixed: DistillationSettings = { alpha: 0.6, temperature: 2, divergence, beta: 0.3 };
    testObjective(`kd ${divergence} ${tail} α=1 τ=1 (engine)`, {
      evaluate: engineObjective(createDistillationObjective(pure)),
      sample: () => sample(tail),
      atTarget: () => matchingTeacher(tail, 1),
    });
    testObjective(`kd ${divergence} ${tail} α=0.6 τ=2 (engine)`, {
      evaluate: engineObjective(createDistillationObjective(mixed)),
      sample: () => sample(tail, 2),
      atTarget: certainTeacher,
    });
    testObjective(`kd ${divergence} ${tail} α=1 τ=2 (reference)`, {
      evaluate: referenceObjective({ ...pure, temperature: 2 }),
      sample: () => sample(tail, 3),
      atTarget: () => matchingTeacher(tail, 2),
      // The matching logits τ·log p are rounded to float32.
      zeroTolerance: 1e-7,
      finiteDifference: { step: 2 ** -10, absolute: 1e-6, relative: 1e-4 },
    });
  }
}

// Grouped categories (prefix groups): the same suite, at the target when each pair's mass matches.
for (const divergence of divergences) {
  for (const tail of tails) {
    const grouped: DistillationSettings = { alpha: 1, temperature: 2, divergence, beta: 0.5, categories: 'prefix-group' };
    testObjective(`kd ${divergence} ${tail} grouped α=1 τ=2 (reference)`, {
      evaluate: referenceObjective(grouped),
      sample: () => pairedCategories(sample(tail, 3)),
      atTarget: () => pairedCategories(matchingTeacher(tail, 2)),
      zeroTolerance: 1e-7,
      finiteDifference: { step: 2 ** -10, absolute: 1e-6, relative: 1e-4 },
    });
    testObjective(`kd ${divergence} ${tail} grouped α=1 τ=1 (engine)`, {
      evaluate: engineObjective(createDistillationObjective({ ...grouped, temperature: 1 })),
      sample: () => pairedCategories(sample(tail, 2)),
      atTarget: () => pairedCategories(matchingTeacher(tail, 1)),
    });
  }
}

describe('grouped categories', () => {
  it('compare only each group’s mass: a student at its grouped target is not at the same teacher read id by id', () => {
    const settings: DistillationSettings = { alpha: 1, temperature: 1, divergence: 'forward-kl', beta: 0.5, categories: 'prefix-group' };
    const grouped = pairedCategories(matchingTeacher('renormalize', 1));
    const byToken = { ...grouped, soft: { ...grouped.soft!, category: undefined } };
    const largest = (gradient: ArrayLike<number>) => Array.from(gradient).reduce((most, value) => Math.max(most, Math.abs(value)), 0);
    expect(largest(referenceObjective(settings)(grouped).gradient)).toBeLessThan(1e-7);
    expect(largest(referenceObjective(settings)(byToken).gradient)).toBeGreaterThan(1e-3);
    expect(referenceObjective(settings)(byToken).loss).toBeGreaterThan(referenceObjective(settings)(grouped).loss + 1e-3);
  });

  it('refuse a category that is not an entry of the row', () => {
    const input = pairedCategories(sample('renormalize', 4));
    input.soft!.category![1] = width;
    expect(() => referenceObjective({ alpha: 1, temperature: 1, divergence: 'forward-kl', beta: 0.5 })(input)).toThrow(/category 4 is not an entry index/);
  });
});

describe('kd objective on the engine', () => {
  it('agrees with the float64 reference on loss and gradient for every divergence, tail and temperature', () => {
    for (const divergence of divergences) {
      for (const tail of tails) {
        for (const temperature of [1, 2]) {
          const settings: DistillationSettings = { alpha: 0.7, temperature, divergence, beta: 0.5 };
          const input = sample(tail, 11);
          const engine = engineObjective(createDistillationObjective(settings))(input);
          const reference = referenceObjective(settings)(input);
          expect(engine.loss).toBeCloseTo(reference.loss, 4);
          for (let index = 0; index < input.logits.length; index++) expect(Math.abs(engine.gradient[index] - reference.gradient[index])).toBeLessThan(1e-5);
        }
      }
    }
  });

  it('renormalized forward KL is Σ p·log(p/q) over the kept ids, collisions added', () => {
    const input = sample('renormalize', 4);
    const settings: DistillationSettings = { alpha: 1, temperature: 1, divergence: 'forward-kl', beta: 0.5 };
    const only = (row: number) => ({ ...input, weights: Float32Array.from({ length: rows }, (_, r) => (r === row ? 1 : 0)) });
    const loss = engineObjective(createDistillationObjective(settings))(only(2)).loss;
    const logits = input.logits.subarray(2 * vocab, 3 * vocab);
    const normalizer = Math.log(logits.reduce((sum, value) => sum + Math.exp(value), 0));
    const merged = new Map<number, number>();
    for (let k = 0; k < width; k++) merged.set(input.soft!.ids[2 * width + k], (merged.get(input.soft!.ids[2 * width + k]) ?? 0) + input.soft!.probs[2 * width + k]);
    expect(merged.size).toBe(3);
    let expected = 0;
    for (const [id, p] of merged) expected += p * (Math.log(p) - (logits[id] - normalizer));
    expect(loss).toBeCloseTo(expected, 5);
  });

  it('rows without a teacher row train on the hard label alone, as cross-entropy does', () => {
    const input = sample('renormalize', 5);
    input.soft!.present.fill(0);
    const kd = engineObjective(createDistillationObjective({ alpha: 0.9, temperature: 2, divergence: 'forward-kl', beta: 0.5 }))(input);
    const ce = engineObjective(createObjective('ce'))(input);
    expect(kd.loss).toBeCloseTo(ce.loss, 6);
    for (let index = 0; index < input.logits.length; index++) expect(kd.gradient[index]).toBeCloseTo(ce.gradient[index], 6);
  });

  it('the bucket compares the student’s mass outside the row’s ids with the tail: more student mass there than the teacher has costs more', () => {
    const settings: DistillationSettings = { alpha: 1, temperature: 1, divergence: 'forward-kl', beta: 0.5 };
    const evaluate = engineObjective(createDistillationObjective(settings));
    const input = sample('bucket', 6);
    const base = evaluate(input).loss;
    // Raise the logits outside every row's ids: the student's residual grows.
    const moved = { ...input, logits: input.logits.slice() };
    for (let row = 0; row < rows; row++) {
      const own = new Set(Array.from(input.soft!.ids.subarray(row * width, (row + 1) * width)));
      for (let id = 0; id < vocab; id++) if (!own.has(id)) moved.logits[row * vocab + id] += 2;
    }
    expect(evaluate(moved).loss).toBeGreaterThan(base);
  });
});
