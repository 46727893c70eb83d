import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRandom } from './random.js';
import { sampleRow, SampledRowAssembler } from './sample.js';
import { captureError, normalize, rowArbitraries } from './selector-suite.js';
import { selectRow } from './select.js';
import type { CompressionSpec, SparseRow } from './types.js';

/** A Zipf-like row of `size` ids with shuffled ids, like a teacher's distribution. */
function zipfRow(size: number, exponent: number, seed: number): Float32Array {
  const random = createRandom(seed);
  const order = Array.from({ length: size }, (_, i) => i).sort(() => random() - 0.5);
  const weights = new Array<number>(size);
  for (let rank = 0; rank < size; rank++) weights[order[rank]] = 1 / (rank + 1) ** exponent;
  return normalize(weights);
}

/** Mean and standard error of each id's estimate over `trials` independently drawn rows. */
function meanOfDraws(probs: Float32Array, spec: CompressionSpec, trials: number, draw: (trial: number) => SparseRow): { mean: Float64Array; standardError: Float64Array } {
  const sum = new Float64Array(probs.length);
  const squares = new Float64Array(probs.length);
  for (let trial = 0; trial < trials; trial++) {
    const row = draw(trial);
    for (let i = 0; i < row.ids.length; i++) {
      sum[row.ids[i]] += row.probs[i];
      squares[row.ids[i]] += row.probs[i] * row.probs[i];
    }
  }
  const mean = sum.map((value) => value / trials);
  const standardError = squares.map((value, id) => Math.sqrt(Math.max(0, value / trials - mean[id] ** 2) / trials));
  return { mean, standardError };
}

/**
 * Every id's mean estimate lies within `z` standard errors of its true probability; the error is
 * the observed one but never below what `draws` draws at the true rate give (an id too rare to
 * be drawn at all has no observed spread).
 */
function expectUnbiased(probs: Float32Array, mean: Float64Array, standardError: Float64Array, draws: number, z = 5): void {
  let worst = 0;
  for (let id = 0; id < probs.length; id++) {
    const floor = Math.sqrt((probs[id] * (1 - probs[id])) / draws);
    const deviation = Math.abs(mean[id] - probs[id]) / Math.max(standardError[id], floor, 1e-9);
    worst = Math.max(worst, deviation);
  }
  expect(worst).toBeLessThan(z);
}

describe('sampleRow', () => {
  const probs = zipfRow(60, 1.1, 5);
  const trials = 6000;

  it.each([
    ['sampled, n = 8, proposal temperature 1', { mode: 'sampled', samples: 8, proposalTemperature: 1, seed: 1 }],
    ['sampled, n = 12, proposal temperature 2 (importance weights)', { mode: 'sampled', samples: 12, proposalTemperature: 2, seed: 2 }],
    ['sampled, n = 4, proposal temperature 0.7', { mode: 'sampled', samples: 4, proposalTemperature: 0.7, seed: 3 }],
    ['hybrid, p = 0.5 head + 8 tail draws', { mode: 'hybrid', p: 0.5, kMin: 1, kMax: 64, samples: 8, proposalTemperature: 1, seed: 4 }],
    ['hybrid, p = 0.8 head + 6 tail draws at proposal temperature 1.5', { mode: 'hybrid', p: 0.8, kMin: 2, kMax: 10, samples: 6, proposalTemperature: 1.5, seed: 5 }],
  ] as [string, CompressionSpec][])('is unbiased: the mean of many seeded draws converges to the full distribution (%s)', (_name, spec) => {
    const { mean, standardError } = meanOfDraws(probs, spec, trials, (trial) => sampleRow(probs, spec, createRandom((spec as { seed: number }).seed, trial)));
    expectUnbiased(probs, mean, standardError, trials * (spec as { samples: number }).samples);
    // Convergence, not just agreement within noise: total variation of the mean is small.
    let totalVariation = 0;
    for (let id = 0; id < probs.length; id++) totalVariation += Math.abs(mean[id] - probs[id]) / 2;
    expect(totalVariation).toBeLessThan(0.03);
  });

  it('a top-k row fails the same check (the test can tell a biased row apart)', () => {
    const spec: CompressionSpec = { mode: 'fixed', k: 8 };
    const { mean, standardError } = meanOfDraws(probs, spec, 200, () => selectRow(probs, spec));
    let worst = 0;
    for (let id = 0; id < probs.length; id++) worst = Math.max(worst, Math.abs(mean[id] - probs[id]) / Math.max(standardError[id], 1e-6));
    expect(worst).toBeGreaterThan(5);
  });

  it('is reproducible: the same seed and stream give the same row, another stream another row', () => {
    const spec: CompressionSpec = { mode: 'sampled', samples: 12, proposalTemperature: 1.3, seed: 42 };
    const first = sampleRow(probs, spec, createRandom(42, 7));
    const again = sampleRow(probs, spec, createRandom(42, 7));
    expect(Array.from(again.ids)).toEqual(Array.from(first.ids));
    expect(Array.from(again.probs)).toEqual(Array.from(first.probs));
    const other = Array.from({ length: 5 }, (_, stream) => sampleRow(probs, spec, createRandom(42, 100 + stream)));
    expect(other.some((row) => row.ids.join() !== first.ids.join())).toBe(true);
    expect(Array.from(selectRow(probs, spec).ids)).toEqual(Array.from(sampleRow(probs, spec).ids));
  });

  it('rows are well formed on any row shape: unique ids, descending estimates, head exact, at most head + n entries', () => {
    fc.assert(
      fc.property(
        fc.oneof(...Object.values(rowArbitraries)),
        fc.integer({ min: 1, max: 24 }),
        fc.constantFrom(0.5, 1, 2),
        fc.boolean(),
        fc.nat({ max: 2 ** 24 - 1 }),
        (row, samples, proposalTemperature, hybrid, seed) => {
          const spec: CompressionSpec = hybrid ? { mode: 'hybrid', p: 0.6, kMin: 1, kMax: 4, samples, proposalTemperature, seed } : { mode: 'sampled', samples, proposalTemperature, seed };
          const sampled = sampleRow(row, spec);
          expect(new Set(sampled.ids).size).toBe(sampled.ids.length);
          expect(sampled.ids.length).toBeLessThanOrEqual((hybrid ? 4 : 0) + samples);
          let sum = 0;
          for (let i = 0; i < sampled.ids.length; i++) {
            expect(row[sampled.ids[i]]).toBeGreaterThan(0);
            if (i > 0) expect(sampled.probs[i]).toBeLessThanOrEqual(sampled.probs[i - 1]);
            sum += sampled.probs[i];
          }
          expect(sampled.tailMass).toBeCloseTo(Math.max(0, 1 - sum), 5);
          if (proposalTemperature === 1) expect(sum).toBeCloseTo(1, 4);
          if (hybrid) {
            const head = selectRow(row, { mode: 'adaptive', p: 0.6, kMin: 1, kMax: 4 });
            for (let i = 0; i < head.ids.length; i++) {
              const at = Array.from(sampled.ids).indexOf(head.ids[i]);
              expect(sampled.probs[at]).toBe(head.probs[i]);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a hybrid head that holds the whole support draws nothing', () => {
    const row = normalize([0, 3, 0, 1]);
    const sampled = sampleRow(row, { mode: 'hybrid', p: 1, kMin: 1, kMax: 4, samples: 8, proposalTemperature: 1, seed: 0 });
    expect(Array.from(sampled.ids)).toEqual([1, 3]);
    expect(sampled.tailMass).toBeCloseTo(0, 6);
  });

  it('refuses fixed and adaptive specs, and rows that are not probabilities', () => {
    expect(captureError(() => sampleRow(probs, { mode: 'fixed', k: 3 })).code).toBe('E_SPEC');
    expect(captureError(() => sampleRow(new Float32Array([2, 1]), { mode: 'sampled', samples: 3, proposalTemperature: 1, seed: 0 })).code).toBe('E_INPUT');
    expect(captureError(() => sampleRow(new Float32Array([0.5, Number.NaN]), { mode: 'sampled', samples: 3, proposalTemperature: 1, seed: 0 })).code).toBe('E_NONFINITE');
  });
});

describe('SampledRowAssembler', () => {
  it('adds up duplicate draws and orders head and estimates together', () => {
    const assembler = new SampledRowAssembler(2);
    const count = assembler.assemble([9, 4], [0.5, 0.2], 0, 2, [7, 3, 7, 7], [0.3, 0.3, 0.3, 0.3], 0, 4);
    expect(count).toBe(4);
    expect(Array.from(assembler.ids.subarray(0, count))).toEqual([9, 7, 4, 3]);
    expect(Array.from(assembler.probs.subarray(0, count))).toEqual([0.5, Math.fround(0.225), Math.fround(0.2), Math.fround(0.075)]);
    expect(assembler.tailMass).toBeCloseTo(0, 6);
  });
});
