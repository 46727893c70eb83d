// The shared test suite every training objective runs (like unstorage's testDriver): its
// gradient agrees with finite differences of its loss, vanishes where the student equals the
// target, and the row weights mean what they say (a weighted mean; weight 0 rows are inert).
import * as tf from './tf.js';
import { describe, expect, it } from 'vitest';
import { distillationLossReference, type DistillationSettings, type SoftTargets } from './kd-divergence.js';
import type { Objective } from './loss.js';

export interface ObjectiveInput {
  /** float32 [rows, vocab]. */
  logits: Float32Array;
  rows: number;
  vocab: number;
  labels: Int32Array;
  weights: Float32Array;
  soft?: SoftTargets;
}

export interface ObjectiveResult {
  loss: number;
  gradient: ArrayLike<number>;
}

/** An objective as the suite sees it: a loss and its gradient with respect to the logits (an engine may answer asynchronously). */
export type EvaluateObjective = (input: ObjectiveInput) => ObjectiveResult | Promise<ObjectiveResult>;

export interface ObjectiveCase {
  evaluate: EvaluateObjective;
  /** A batch to check gradients and weights on. */
  sample: () => ObjectiveInput;
  /** A batch where the student already matches the objective's target. */
  atTarget: () => ObjectiveInput;
  /** Largest gradient entry accepted at the target. */
  zeroTolerance?: number;
  /** Finite-difference step and the accepted |difference| = absolute + relative·|gradient|. */
  finiteDifference?: { step: number; absolute: number; relative: number };
}

/** A TensorFlow.js objective, evaluated through the engine's own gradient machinery. */
export function engineObjective(objective: Objective): (input: ObjectiveInput) => ObjectiveResult {
  return (input) =>
    tf.tidy(() => {
      const labels = tf.tensor1d(input.labels, 'int32');
      const weights = tf.tensor1d(input.weights, 'float32');
      const lossOf = (logits: tf.Tensor) => objective.loss(logits as tf.Tensor2D, { labels, weights, soft: input.soft });
      const { value, grad } = tf.valueAndGrad(lossOf)(tf.tensor2d(input.logits, [input.rows, input.vocab]));
      return { loss: value.dataSync()[0], gradient: grad.dataSync() as Float32Array };
    });
}

/** The float64 reference of kd-divergence.ts (cross-entropy when `settings` is omitted). */
export function referenceObjective(settings?: DistillationSettings): (input: ObjectiveInput) => ObjectiveResult {
  return (input) =>
    distillationLossReference({ logits: input.logits, vocab: input.vocab, labels: input.labels, weights: input.weights, targets: settings ? input.soft : undefined, settings });
}

/** Rows [from, to) of a batch as a batch of its own. */
export function sliceRows(input: ObjectiveInput, from: number, to: number): ObjectiveInput {
  const soft = input.soft;
  return {
    logits: input.logits.slice(from * input.vocab, to * input.vocab),
    rows: to - from,
    vocab: input.vocab,
    labels: input.labels.slice(from, to),
    weights: input.weights.slice(from, to),
    soft: soft && {
      rows: to - from,
      width: soft.width,
      ids: soft.ids.slice(from * soft.width, to * soft.width),
      probs: soft.probs.slice(from * soft.width, to * soft.width),
      residual: soft.residual.slice(from, to),
      present: soft.present.slice(from, to),
      category: soft.category?.slice(from * soft.width, to * soft.width),
    },
  };
}

export function testObjective(name: string, objectiveCase: ObjectiveCase): void {
  const { evaluate } = objectiveCase;
  const finite = objectiveCase.finiteDifference ?? { step: 1e-2, absolute: 2e-3, relative: 2e-2 };
  describe(`objective ${name}`, () => {
    it('its gradient agrees with central finite differences of its loss', async () => {
      const input = objectiveCase.sample();
      const { loss, gradient } = await evaluate(input);
      expect(Number.isFinite(loss)).toBe(true);
      let checked = 0;
      for (let index = 0; index < input.logits.length; index++) {
        const original = input.logits[index];
        input.logits[index] = original + finite.step;
        const above = (await evaluate(input)).loss;
        input.logits[index] = original - finite.step;
        const below = (await evaluate(input)).loss;
        input.logits[index] = original;
        const numeric = (above - below) / (2 * finite.step);
        expect(Math.abs(numeric - gradient[index]), `logit ${index}: finite difference ${numeric}, gradient ${gradient[index]}`).toBeLessThanOrEqual(
          finite.absolute + finite.relative * Math.abs(gradient[index]),
        );
        checked++;
      }
      expect(checked).toBe(input.logits.length);
    });

    it('its gradient vanishes where the student matches the target', async () => {
      const input = objectiveCase.atTarget();
      const { gradient } = await evaluate(input);
      let largest = 0;
      for (let index = 0; index < gradient.length; index++) largest = Math.max(largest, Math.abs(gradient[index]));
      expect(largest).toBeLessThanOrEqual(objectiveCase.zeroTolerance ?? 1e-5);
      // … and not merely because every gradient is small: the sample has a real one.
      const sample = (await evaluate(objectiveCase.sample())).gradient;
      let sampleLargest = 0;
      for (let index = 0; index < sample.length; index++) sampleLargest = Math.max(sampleLargest, Math.abs(sample[index]));
      expect(sampleLargest).toBeGreaterThan(100 * (objectiveCase.zeroTolerance ?? 1e-5));
    });

    it('the loss is the weighted mean of the rows’ losses, and rows of weight 0 get no gradient', async () => {
      const input = objectiveCase.sample();
      const weights = [2, 0, 0.5, 1, 3, 0, 1, 1];
      for (let row = 0; row < input.rows; row++) input.weights[row] = weights[row % weights.length];
      const { loss, gradient } = await evaluate(input);
      let weighted = 0;
      let weightSum = 0;
      for (let row = 0; row < input.rows; row++) {
        const alone = sliceRows(input, row, row + 1);
        alone.weights[0] = 1;
        weighted += input.weights[row] * (await evaluate(alone)).loss;
        weightSum += input.weights[row];
      }
      expect(loss).toBeCloseTo(weighted / weightSum, 4);
      for (let row = 0; row < input.rows; row++) {
        if (input.weights[row] !== 0) continue;
        for (let i = 0; i < input.vocab; i++) expect(Math.abs(gradient[row * input.vocab + i])).toBe(0);
        // Its logits do not move the loss either.
        const changed = { ...input, logits: input.logits.slice() };
        for (let i = 0; i < input.vocab; i++) changed.logits[row * input.vocab + i] += 3 * ((i % 3) - 1);
        expect((await evaluate(changed)).loss).toBeCloseTo(loss, 5);
      }
      // Scaling every weight changes nothing.
      const scaled = { ...input, weights: input.weights.map((weight) => weight * 7) };
      expect((await evaluate(scaled)).loss).toBeCloseTo(loss, 5);
    });
  });
}
