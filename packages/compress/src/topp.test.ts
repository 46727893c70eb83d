import { describe, expect, it } from 'vitest';
import { adaptiveSpecs, captureError, normalize, testSelector } from './selector-suite.js';
import { selectTopP } from './topp.js';
import type { CompressionSpec } from './types.js';

testSelector(
  'adaptive (selectTopP)',
  (probs, spec) => {
    const { p, kMin, kMax } = spec as Extract<CompressionSpec, { mode: 'adaptive' }>;
    return selectTopP(probs, { p, kMin, kMax });
  },
  adaptiveSpecs,
);

describe('selectTopP', () => {
  const probs = new Float32Array([0.05, 0.5, 0.1, 0.3, 0.05]);

  it('keeps the fewest entries whose probabilities reach p', () => {
    expect(Array.from(selectTopP(probs, { p: 0.5 }).ids)).toEqual([1]);
    expect(Array.from(selectTopP(probs, { p: 0.79 }).ids)).toEqual([1, 3]);
    expect(Array.from(selectTopP(probs, { p: 0.85 }).ids)).toEqual([1, 3, 2]);
  });

  it('keeps at least kMin entries even when fewer reach p', () => {
    const row = selectTopP(probs, { p: 0.1, kMin: 3 });
    expect(Array.from(row.ids)).toEqual([1, 3, 2]);
  });

  it('stops at kMax even when the kept sum stays below p, and the tail says so', () => {
    const row = selectTopP(probs, { p: 0.99, kMax: 2 });
    expect(Array.from(row.ids)).toEqual([1, 3]);
    expect(row.tailMass).toBeGreaterThan(1 - 0.99);
    expect(row.tailMass).toBeCloseTo(0.2, 6);
  });

  it('defaults to at most 64 entries', () => {
    const flat = normalize(new Array<number>(1000).fill(1));
    expect(selectTopP(flat, { p: 0.9 }).ids.length).toBe(64);
  });

  it('clamps kMax to the vocabulary size', () => {
    const row = selectTopP(normalize([1, 1, 1]), { p: 1, kMax: 500 });
    expect(row.ids.length).toBe(3);
  });

  it.each([0, -0.1, 1.5, Number.NaN, undefined])('refuses p = %s with E_P_RANGE and says what to pass', (p) => {
    const error = captureError(() => selectTopP(probs, { p: p as number }));
    expect(error.code).toBe('E_P_RANGE');
    expect(error.message).toContain('(0, 1]');
    expect(error.message).toContain('pass e.g. p: 0.95');
  });

  it('refuses kMin > kMax, kMin above the vocabulary and fractional bounds with E_K_RANGE', () => {
    const cases: [{ kMin?: number; kMax?: number }, string][] = [
      [{ kMin: 4, kMax: 2 }, 'pass kMin ≤ kMax'],
      [{ kMin: 100 }, 'kMax (64, the default)'],
      [{ kMin: 6 }, 'pass kMin between 1 and 5'],
      [{ kMax: 0 }, 'kMax in adaptive mode must be a whole number ≥ 1'],
      [{ kMin: 1.5 }, 'kMin in adaptive mode must be a whole number ≥ 1'],
    ];
    for (const [bounds, message] of cases) {
      const error = captureError(() => selectTopP(probs, { p: 0.9, ...bounds }));
      expect(error.code).toBe('E_K_RANGE');
      expect(error.message).toContain(message);
    }
  });
});
