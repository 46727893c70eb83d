import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keptCount } from './kept-count.js';
import { selectRow } from './select.js';
import { adaptiveSpecs, captureError, fixedSpecs, referenceSelect, rowArbitraries } from './selector-suite.js';
import type { CompressionSpec } from './types.js';

/** The row sorted the way ONNX TopK returns it, placed after `padding` unrelated values. */
function sortedWithPadding(probs: Float32Array, padding: number): Float32Array {
  const sorted = Float32Array.from(referenceSelect(probs, { mode: 'fixed', k: probs.length }).probs);
  const buffer = new Float32Array(padding + sorted.length + 3).fill(0.5);
  buffer.set(sorted, padding);
  return buffer;
}

describe('keptCount', () => {
  for (const [mode, specs] of [
    ['fixed', fixedSpecs],
    ['adaptive', adaptiveSpecs],
  ] as const) {
    it(`agrees with selectRow on sorted rows (${mode})`, () => {
      fc.assert(
        fc.property(
          fc.oneof(...Object.values(rowArbitraries)).chain((probs) => fc.tuple(fc.constant(probs), specs(probs.length), fc.nat({ max: 5 }))),
          ([probs, spec, padding]) => {
            const sorted = sortedWithPadding(probs, padding);
            expect(keptCount(sorted, padding, probs.length, spec)).toBe(selectRow(probs, spec).ids.length);
          },
        ),
        { numRuns: 300 },
      );
    });
  }

  it('counts only within the available entries (a TopK output shorter than kMin keeps them all)', () => {
    const sorted = [0.3, 0.2, 0.1];
    const adaptive: CompressionSpec = { mode: 'adaptive', p: 0.99, kMin: 5, kMax: 10 };
    expect(keptCount(sorted, 0, 3, adaptive)).toBe(3);
    expect(keptCount(sorted, 1, 2, { mode: 'fixed', k: 4 })).toBe(2);
    expect(keptCount(sorted, 0, 3, { mode: 'adaptive', p: 0.45, kMin: 1, kMax: 10 })).toBe(2);
    expect(keptCount(sorted, 3, 0, adaptive)).toBe(0);
  });

  it('refuses a slice outside the array with E_INPUT and a NaN in the running sum with E_NONFINITE', () => {
    const spec: CompressionSpec = { mode: 'adaptive', p: 0.9, kMin: 1, kMax: 4 };
    expect(captureError(() => keptCount([0.5, 0.5], 1, 2, spec)).code).toBe('E_INPUT');
    expect(captureError(() => keptCount([0.5, 0.5], -1, 1, spec)).code).toBe('E_INPUT');
    expect(captureError(() => keptCount([0.5, 0.5], 0, 1.5, spec)).code).toBe('E_INPUT');
    const error = captureError(() => keptCount([0.5, Number.NaN, 0.1], 0, 3, spec));
    expect(error.code).toBe('E_NONFINITE');
    expect(error.message).toContain('sortedProbs[1]');
  });
});
