// The shared test suite every compression mode runs (like unstorage's testDriver): a selector
// must agree with a plain sort-based reference on random, peaked, flat and tied rows.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompressError } from './errors.js';
import type { CompressionSpec, SparseRow } from './types.js';

/** The modes whose rows are cut from the sorted order (sampled modes have their own suite, sample.test.ts). */
type ExactSpec = Extract<CompressionSpec, { mode: 'fixed' | 'adaptive' }>;

export type Selector = (probs: Float32Array, spec: ExactSpec) => SparseRow;

/** Turns non-negative weights (not all 0) into a float32 probability row. */
export function normalize(weights: ArrayLike<number>): Float32Array {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) sum += weights[i];
  const row = new Float32Array(weights.length);
  for (let i = 0; i < weights.length; i++) row[i] = weights[i] / sum;
  return row;
}

/** Reference: sort every id by (probability descending, id ascending), then cut as the spec says. */
export function referenceSelect(probs: Float32Array, spec: ExactSpec): { ids: number[]; probs: number[] } {
  const order = Array.from({ length: probs.length }, (_, id) => id).sort((a, b) => probs[b] - probs[a] || a - b);
  let count: number;
  if (spec.mode === 'fixed') {
    count = spec.k;
  } else {
    const limit = Math.min(spec.kMax, probs.length);
    count = limit;
    let sum = 0;
    for (let n = 1; n <= limit; n++) {
      sum += probs[order[n - 1]];
      if (sum >= spec.p) {
        count = n;
        break;
      }
    }
    count = Math.min(Math.max(count, spec.kMin), limit);
  }
  const ids = order.slice(0, count);
  return { ids, probs: ids.map((id) => probs[id]) };
}

const weightsArbitrary = (maxLength: number) => fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength });

/** Rows of every shape the suite checks, labelled for failure messages. */
export const rowArbitraries: Record<string, fc.Arbitrary<Float32Array>> = {
  random: weightsArbitrary(300).map((weights) => normalize(weights.some((w) => w > 0) ? weights : [...weights.slice(1), 1])),
  peaked: fc.tuple(weightsArbitrary(300), fc.nat()).map(([weights, at]) => {
    const peaked = weights.map((w) => w % 100);
    peaked[at % peaked.length] = 10_000_000;
    return normalize(peaked);
  }),
  flat: fc.integer({ min: 1, max: 300 }).map((length) => normalize(new Array<number>(length).fill(1))),
  ties: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 300 }).map((weights) => normalize(weights.some((w) => w > 0) ? weights : [...weights.slice(1), 2])),
};

export function testSelector(name: string, select: Selector, specFor: (vocabSize: number) => fc.Arbitrary<ExactSpec>): void {
  describe(`selector suite: ${name}`, () => {
    for (const [shape, rows] of Object.entries(rowArbitraries)) {
      it(`matches the sort-based reference on ${shape} rows (ties: lower id first)`, () => {
        fc.assert(
          fc.property(
            rows.chain((probs) => fc.tuple(fc.constant(probs), specFor(probs.length))),
            ([probs, spec]) => {
              const row = select(probs, spec);
              const expected = referenceSelect(probs, spec);
              expect(Array.from(row.ids)).toEqual(expected.ids);
              expect(Array.from(row.probs)).toEqual(expected.probs);
            },
          ),
          { numRuns: 150 },
        );
      });
    }

    it('returns unique in-range ids by descending probability, counts within bounds, tailMass = 1 − Σprobs', () => {
      fc.assert(
        fc.property(
          fc.oneof(...Object.values(rowArbitraries)).chain((probs) => fc.tuple(fc.constant(probs), specFor(probs.length))),
          ([probs, spec]) => {
            const row = select(probs, spec);
            expect(row.ids).toBeInstanceOf(Uint32Array);
            expect(row.probs).toBeInstanceOf(Float32Array);
            expect(row.probs.length).toBe(row.ids.length);
            expect(new Set(row.ids).size).toBe(row.ids.length);
            let sum = 0;
            for (let i = 0; i < row.ids.length; i++) {
              expect(row.ids[i]).toBeLessThan(probs.length);
              expect(row.probs[i]).toBe(probs[row.ids[i]]);
              if (i > 0) expect(row.probs[i]).toBeLessThanOrEqual(row.probs[i - 1]);
              sum += row.probs[i];
            }
            expect(row.tailMass).toBeGreaterThanOrEqual(0);
            expect(Math.abs(row.tailMass - (1 - sum))).toBeLessThan(1e-5);
            if (spec.mode === 'fixed') {
              expect(row.ids.length).toBe(spec.k);
            } else {
              expect(row.ids.length).toBeGreaterThanOrEqual(Math.min(spec.kMin, probs.length));
              expect(row.ids.length).toBeLessThanOrEqual(Math.min(spec.kMax, probs.length));
              // Adaptive keeps more than kMin only while the sum is still below p.
              if (row.ids.length > spec.kMin) {
                let before = 0;
                for (let i = 0; i < row.ids.length - 1; i++) before += row.probs[i];
                expect(before).toBeLessThan(spec.p);
              }
            }
          },
        ),
        { numRuns: 300 },
      );
    });

    it('keeps the single most probable id first even when it is the last id', () => {
      const probs = normalize([1, 1, 1, 1, 96]);
      for (const spec of fc.sample(specFor(probs.length), { numRuns: 20, seed: 7 })) {
        expect(select(probs, spec).ids[0]).toBe(4);
      }
    });

    it.each([
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['-Infinity', Number.NEGATIVE_INFINITY],
    ])('refuses a row containing %s with E_NONFINITE naming the index', (_label, bad) => {
      const probs = normalize([1, 2, 3, 4]);
      probs[2] = bad;
      const error = captureError(() => select(probs, anySpec(specFor)));
      expect(error).toBeInstanceOf(CompressError);
      expect(error.code).toBe('E_NONFINITE');
      expect(error.message).toContain('probs[2]');
    });

    it('refuses negative, unnormalized and empty rows with E_INPUT', () => {
      const negative = new Float32Array([0.6, 0.6, -0.2]);
      const logits = new Float32Array([2.5, 1, 0.3]);
      for (const probs of [negative, logits, new Float32Array(0)]) {
        const error = captureError(() => select(probs, anySpec(specFor)));
        expect(error).toBeInstanceOf(CompressError);
        expect(error.code).toBe('E_INPUT');
      }
    });
  });
}

/** Fixed-mode specs: any k the row allows. */
export const fixedSpecs = (vocabSize: number): fc.Arbitrary<ExactSpec> =>
  fc.integer({ min: 1, max: vocabSize }).map((k) => ({ mode: 'fixed', k }));

/** Adaptive-mode specs: p across (0, 1] (1 included), kMin ≤ the row length, kMax from tight to loose. */
export const adaptiveSpecs = (vocabSize: number): fc.Arbitrary<ExactSpec> =>
  fc
    .tuple(
      fc.oneof(fc.double({ min: 1e-6, max: 1, noNaN: true }), fc.constantFrom(0.5, 0.9, 0.95, 0.99, 1)),
      fc.integer({ min: 1, max: Math.min(vocabSize, 8) }),
      fc.integer({ min: 0, max: 80 }),
    )
    .map(([p, kMin, extra]) => ({ mode: 'adaptive', p, kMin, kMax: kMin + extra }));

/** A valid spec of the mode under test for a tiny row, for error cases. */
function anySpec(specFor: (vocabSize: number) => fc.Arbitrary<ExactSpec>): ExactSpec {
  return fc.sample(specFor(1), { numRuns: 1, seed: 1 })[0];
}

export function captureError(run: () => unknown): CompressError {
  try {
    run();
  } catch (error) {
    return error as CompressError;
  }
  throw new Error('expected a CompressError, but the call returned normally');
}
