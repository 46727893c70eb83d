import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { captureError } from './selector-suite.js';
import { softmax } from './softmax.js';

const logitRows = fc
  .array(fc.float({ min: -50, max: 50, noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 200 })
  .map((values) => Float32Array.from(values));

describe('softmax', () => {
  it('gives a probability row that sums to 1 and keeps the order of the logits', () => {
    fc.assert(
      fc.property(logitRows, fc.double({ min: 0.1, max: 10, noNaN: true }), (logits, temperature) => {
        const probs = softmax(logits, temperature);
        let sum = 0;
        for (let i = 0; i < probs.length; i++) {
          expect(probs[i]).toBeGreaterThanOrEqual(0);
          sum += probs[i];
        }
        expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
        for (let i = 1; i < logits.length; i++) {
          if (logits[i] > logits[i - 1]) expect(probs[i]).toBeGreaterThanOrEqual(probs[i - 1]);
        }
      }),
    );
  });

  it('matches exp(x/τ) / Σ exp(x/τ) computed in float64', () => {
    fc.assert(
      fc.property(logitRows, fc.double({ min: 0.25, max: 4, noNaN: true }), (logits, temperature) => {
        const probs = softmax(logits, temperature);
        const exps = Array.from(logits, (x) => Math.exp(x / temperature));
        const total = exps.reduce((a, b) => a + b, 0);
        for (let i = 0; i < logits.length; i++) expect(probs[i]).toBeCloseTo(exps[i] / total, 6);
      }),
    );
  });

  it('does not overflow on huge logits and is shift invariant', () => {
    const huge = softmax(new Float32Array([3.0e38, 3.2e38, 3.4e38]));
    expect(Array.from(huge)).toEqual([0, 0, 1]);
    const small = softmax(new Float32Array([1, 2, 3]));
    const shifted = softmax(new Float32Array([1001, 1002, 1003]));
    for (let i = 0; i < 3; i++) expect(shifted[i]).toBeCloseTo(small[i], 6);
  });

  it('flattens with a higher temperature and sharpens with a lower one', () => {
    const logits = new Float32Array([0, 1, 4]);
    const cold = softmax(logits, 0.5)[2];
    const neutral = softmax(logits, 1)[2];
    const hot = softmax(logits, 4)[2];
    expect(cold).toBeGreaterThan(neutral);
    expect(neutral).toBeGreaterThan(hot);
  });

  it('writes into `out`, including in place', () => {
    const logits = new Float32Array([0.5, -1, 2]);
    const expected = softmax(logits);
    const out = new Float32Array(3);
    expect(softmax(logits, 1, out)).toBe(out);
    expect(Array.from(out)).toEqual(Array.from(expected));
    expect(softmax(logits, 1, logits)).toBe(logits);
    expect(Array.from(logits)).toEqual(Array.from(expected));
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])('refuses a %s logit with E_NONFINITE naming the index', (bad) => {
    const error = captureError(() => softmax(new Float32Array([0, 1, bad, 2])));
    expect(error.code).toBe('E_NONFINITE');
    expect(error.message).toContain('logits[2]');
  });

  it('refuses an empty row, a bad temperature and a wrong-sized out with E_INPUT', () => {
    expect(captureError(() => softmax(new Float32Array(0))).code).toBe('E_INPUT');
    for (const temperature of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const error = captureError(() => softmax(new Float32Array([1, 2]), temperature));
      expect(error.code).toBe('E_INPUT');
      expect(error.message).toContain('temperature must be a finite number > 0');
    }
    expect(captureError(() => softmax(new Float32Array([1, 2]), 1, new Float32Array(3))).code).toBe('E_INPUT');
  });
});
