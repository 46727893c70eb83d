import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { capturedMass, klFullToSparse } from './fidelity.js';
import { captureError, normalize, rowArbitraries } from './selector-suite.js';
import { selectTopK } from './topk.js';

describe('capturedMass', () => {
  it('is the kept probability, 1 − tailMass', () => {
    fc.assert(
      fc.property(rowArbitraries.random.chain((probs) => fc.tuple(fc.constant(probs), fc.integer({ min: 1, max: probs.length }))), ([probs, k]) => {
        const row = selectTopK(probs, { k });
        expect(capturedMass(row)).toBeCloseTo(1 - row.tailMass, 6);
      }),
    );
  });
});

describe('klFullToSparse', () => {
  it('is 0 when the row keeps every id', () => {
    fc.assert(
      fc.property(fc.oneof(...Object.values(rowArbitraries)), (probs) => {
        const row = selectTopK(probs, { k: probs.length });
        expect(klFullToSparse(probs, row)).toBe(0);
        expect(klFullToSparse(probs, row, { tail: 'renormalize' })).toBeLessThan(1e-6);
      }),
    );
  });

  it('grows as k shrinks (uniform tail)', () => {
    fc.assert(
      fc.property(rowArbitraries.random, (probs) => {
        let previous = 0;
        for (let k = probs.length; k >= 1; k--) {
          const divergence = klFullToSparse(probs, selectTopK(probs, { k }));
          // Float32 rows sum to 1 only within ~1e-7 per entry, so allow rounding-sized dips.
          expect(divergence).toBeGreaterThanOrEqual(previous - 1e-6);
          previous = divergence;
        }
        // Keeping only the top id loses information whenever the dropped ids are not already uniform.
        const dropped = Array.from(probs).sort((a, b) => b - a).slice(1);
        if (dropped.length > 0 && Math.max(...dropped) - Math.min(...dropped) > 1e-3) expect(previous).toBeGreaterThan(0);
      }),
    );
  });

  it('matches the definition on a worked example', () => {
    const full = new Float32Array([0.5, 0.25, 0.125, 0.125]);
    const row = selectTopK(full, { k: 2 });
    // The 0.25 tail is spread as 0.125 over the two ids not kept: the decoded row equals the full one.
    expect(klFullToSparse(full, row)).toBeCloseTo(0, 12);
    const skewed = new Float32Array([0.5, 0.25, 0.2, 0.05]);
    const skewedRow = selectTopK(skewed, { k: 2 });
    const expected = 0.2 * Math.log(0.2 / 0.125) + 0.05 * Math.log(0.05 / 0.125);
    expect(klFullToSparse(skewed, skewedRow)).toBeCloseTo(expected, 6);
  });

  it('is Infinity under renormalize when a dropped id had probability, finite when only zeros were dropped', () => {
    const full = normalize([4, 3, 2, 1]);
    expect(klFullToSparse(full, selectTopK(full, { k: 3 }), { tail: 'renormalize' })).toBe(Number.POSITIVE_INFINITY);
    const withZeros = normalize([4, 0, 2, 0]);
    const divergence = klFullToSparse(withZeros, selectTopK(withZeros, { k: 2 }), { tail: 'renormalize' });
    expect(divergence).toBeLessThan(1e-6);
  });

  it('refuses rows that do not belong to the full row', () => {
    const full = normalize([1, 2, 3]);
    expect(captureError(() => klFullToSparse(full, { ids: new Uint32Array([3]), probs: new Float32Array([0.5]), tailMass: 0.5 })).code).toBe('E_INPUT');
    expect(captureError(() => klFullToSparse(full, { ids: new Uint32Array([1, 1]), probs: new Float32Array([0.3, 0.3]), tailMass: 0.4 })).code).toBe('E_INPUT');
    expect(captureError(() => klFullToSparse(full, { ids: new Uint32Array([1]), probs: new Float32Array([0.3, 0.3]), tailMass: 0.4 })).code).toBe('E_INPUT');
    const broken = new Float32Array([0.5, Number.NaN, 0.5]);
    expect(captureError(() => klFullToSparse(broken, { ids: new Uint32Array([0]), probs: new Float32Array([0.5]), tailMass: 0.5 })).code).toBe('E_NONFINITE');
  });
});
