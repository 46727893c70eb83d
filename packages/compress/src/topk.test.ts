import { describe, expect, it } from 'vitest';
import { captureError, fixedSpecs, normalize, testSelector } from './selector-suite.js';
import { selectTopK } from './topk.js';
import type { CompressionSpec } from './types.js';

testSelector('fixed (selectTopK)', (probs, spec) => selectTopK(probs, { k: (spec as Extract<CompressionSpec, { mode: 'fixed' }>).k }), fixedSpecs);

describe('selectTopK', () => {
  it('keeps the k largest, most probable first, and reports the rest as tail mass', () => {
    const probs = new Float32Array([0.1, 0.4, 0.05, 0.3, 0.15]);
    const row = selectTopK(probs, { k: 3 });
    expect(Array.from(row.ids)).toEqual([1, 3, 4]);
    expect(Array.from(row.probs)).toEqual([probs[1], probs[3], probs[4]]);
    expect(row.tailMass).toBeCloseTo(0.15, 6);
  });

  it('breaks ties by the lower id, like ONNX TopK', () => {
    const row = selectTopK(normalize([2, 5, 2, 5, 2]), { k: 3 });
    expect(Array.from(row.ids)).toEqual([1, 3, 0]);
  });

  it('keeps the whole row when k equals the vocabulary size, with tail mass 0', () => {
    const probs = normalize([3, 1, 4, 1, 5, 9, 2, 6]);
    const row = selectTopK(probs, { k: probs.length });
    expect(row.ids.length).toBe(probs.length);
    expect(row.tailMass).toBeLessThan(1e-6);
  });

  it.each([
    [0, 'k in fixed mode must be a whole number ≥ 1'],
    [-3, 'k in fixed mode must be a whole number ≥ 1'],
    [2.5, 'k in fixed mode must be a whole number ≥ 1'],
    [Number.NaN, 'k in fixed mode must be a whole number ≥ 1'],
    [5, 'pass k between 1 and 4'],
  ])('refuses k = %s with E_K_RANGE and says what to pass', (k, message) => {
    const error = captureError(() => selectTopK(normalize([1, 2, 3, 4]), { k }));
    expect(error.code).toBe('E_K_RANGE');
    expect(error.message).toContain(message);
  });
});
