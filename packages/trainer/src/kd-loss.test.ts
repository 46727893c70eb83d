import { beforeAll, describe, expect, it } from 'vitest';
import { initializeBackend } from './backend.js';
import type { DistillationSettings, Divergence, SoftTargets, TailTreatment } from './kd-divergence.js';
import { createDistillationObjective } from './kd-loss.js';
import { createObjective } from './loss.js';
import { engineObjective, referenceObjective, testObjective, type ObjectiveInput } from './objective-suite.js';

beforeAll(async () => {
  await initializeBackend({ prefer: 'wasm' });
});

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

const vocab = 10;
const rows = 6;
const width = 4;

/**
 * Six rows over ten ids: row 1 has no teacher row (hard label only), row 2 a collision (two
 * teacher tokens on student id 3), row 4 two entries and padding.
 */
function sample(tail: TailTreatment, seed = 1): ObjectiveInput {
  const next = random(seed);
  const logits = new Float32Array(rows * vocab).map(() => 3 * (next() - 0.5));
  const labels = Int32Array.from({ length: rows }, () => Math.floor(next() * vocab));
  const ids = new Int32Array(rows * width);
  const probs = new Float32Array(rows * width);
  const residual = new Float32Array(rows);
  const present = new Uint8Array(rows).fill(1);
  present[1] = 0;
  for (let row = 0; row < rows; row++) {
    const rowIds = row === 2 ? [3, 3, 5, 7] : row === 4 ? [8, 2, 8, 8] : [(row + 1) % vocab, (row + 4) % vocab, (row + 6) % vocab, (row + 9) % vocab];
    const raw = row === 4 ? [0.6, 0.3, 0, 0] : [0.4 + next(), 0.3 * next() + 0.05, 0.2 * next() + 0.05, 0.1 * next() + 0.01];
    const kept = raw.reduce((sum, value) => sum + value, 0);
    const tailMass = tail === 'bucket' ? 0.1 + 0.2 * next() : 0;
    for (let k = 0; k < width; k++) {
      ids[row * width + k] = rowIds[k];
      probs[row * width + k] = (raw[k] / kept) * (1 - tailMass);
    }
    residual[row] = tailMass;
  }
  const soft: SoftTargets = { rows, width, ids, probs, residual, present };
  return { logits, rows, vocab, labels, weights: new Float32Array(rows).fill(1), soft };
}

/** The student equals the teacher: logits τ·log p of a full distribution, the teacher its top 4 (+ the rest as a bucket) or all of it. */
function matchingTeacher(tail: TailTreatment, temperature: number): ObjectiveInput {
  const next = random(9);
  const full = tail === 'bucket' ? width : vocab;
  const logits = new Float32Array(rows * vocab);
  const ids = new Int32Array(rows * full);
  const probs = new Float32Array(rows * full);
  const residual = new Float32Array(rows);
  for (let row = 0; row < rows; row++) {
    const weights = Array.from({ length: vocab }, () => 0.05 + next());
    const sum = weights.reduce((total, value) => total + value, 0);
    const order = weights.map((_, id) => id).sort((a, b) => weights[b] - weights[a]);
    for (let id = 0; id < vocab; id++) logits[row * vocab + id] = temperature * Math.log(weights[id] / sum);
    let kept = 0;
    for (let k = 0; k < full; k++) {
      ids[row * full + k] = order[k];
      probs[row * full + k] = weights[order[k]] / sum;
      kept += probs[row * full + k];
    }
    residual[row] = tail === 'bucket' ? 1 - kept : 0;
  }
  const soft: SoftTargets = { rows, width: full, ids, probs, residual, present: new Uint8Array(rows).fill(1) };
  return { logits, rows, vocab, labels: new Int32Array(rows), weights: new Float32Array(rows).fill(1), soft };
}

/** A teacher certain of the label and a student that is too: the target of α < 1 as well. */
function certainTeacher(): ObjectiveInput {
  const labels = Int32Array.from({ length: rows }, (_, row) => (row * 3) % vocab);
  const logits = new Float32Array(rows * vocab);
  for (let row = 0; row < rows; row++) logits[row * vocab + labels[row]] = 40;
  const soft: SoftTargets = { rows, width: 1, ids: Int32Array.from(labels), probs: new Float32Array(rows).fill(1), residual: new Float32Array(rows), present: Uint8Array.from({ length: rows }, (_, row) => (row === 1 ? 0 : 1)) };
  return { logits, rows, vocab, labels, weights: new Float32Array(rows).fill(1), soft };
}

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
