// Test support shared by every package that compares sparse rows (teacher output, stored and
// decoded datasets, resumed runs): one definition of "the same rows". Not part of the public
// API (not exported from index.ts); tests import it as `@kd/compress/testing`.
import { expect } from 'vitest';
import type { SparseRows } from './types.js';

export interface SameRowsTolerance {
  /** Largest allowed difference of a probability (a number, or a bound for a given probability). Default 2e-5. */
  probability?: number | ((p: number) => number);
  /** Largest allowed difference of a tail mass. Default: the probability bound at 1. */
  tailMass?: number;
  /**
   * Rows may keep one entry more or fewer (adaptive selection whose cumulative sum lands on p
   * within float noise); the shared entries must still agree. Default false: kept counts equal.
   */
  boundaryEntry?: boolean;
  /** Ids must be equal position by position, even between equal probabilities (a lossless store). Default false. */
  exactIds?: boolean;
}

/**
 * Asserts that `actual` holds the same rows as `expected`: the same number of rows and of kept
 * entries, ids equal position by position except where two entries of equal probability (within
 * the tolerance) swapped places, probabilities and tail masses within the tolerance.
 */
export function expectSameRows(actual: SparseRows, expected: SparseRows, tolerance: SameRowsTolerance = {}): void {
  const given = tolerance.probability ?? 2e-5;
  const bound = typeof given === 'number' ? () => given : given;
  const tailBound = tolerance.tailMass ?? bound(1);
  expect(actual.length, 'row count').toBe(expected.length);
  for (let row = 0; row < expected.length; row++) {
    const from = expected.offsets[row];
    const to = expected.offsets[row + 1];
    const actualFrom = actual.offsets[row];
    const actualTo = actual.offsets[row + 1];
    const kept = to - from;
    const actualKept = actualTo - actualFrom;
    if (tolerance.boundaryEntry) expect(Math.abs(actualKept - kept), `row ${row}: kept entries ${actualKept} vs ${kept}`).toBeLessThanOrEqual(1);
    else expect(actualKept, `row ${row}: kept entries`).toBe(kept);
    const shared = Math.min(kept, actualKept);
    for (let i = 0; i < shared; i++) {
      const p = expected.probs[from + i];
      const id = actual.ids[actualFrom + i];
      expect(Math.abs(actual.probs[actualFrom + i] - p), `row ${row} entry ${i}: probability`).toBeLessThanOrEqual(bound(p));
      if (id === expected.ids[from + i]) continue;
      expect(tolerance.exactIds, `row ${row} entry ${i}: id ${id}, expected ${expected.ids[from + i]}`).not.toBe(true);
      // A swap is allowed only with an entry of the same probability.
      let swappedWith = -1;
      for (let j = from; j < to; j++) if (expected.ids[j] === id) swappedWith = j;
      expect(swappedWith, `row ${row} entry ${i}: id ${id} is not among the expected ids`).toBeGreaterThanOrEqual(0);
      expect(Math.abs(expected.probs[swappedWith] - p), `row ${row} entry ${i}: id ${id} swapped with an entry of another probability`).toBeLessThanOrEqual(2 * bound(p));
    }
    // An entry one row keeps and the other does not moves its probability into the other's tail.
    let extra = 0;
    if (kept > shared) extra = expected.probs[from + shared];
    else if (actualKept > shared) extra = actual.probs[actualFrom + shared];
    expect(Math.abs(actual.tailMass[row] - expected.tailMass[row]), `row ${row}: tail mass`).toBeLessThanOrEqual(tailBound + extra + (extra > 0 ? bound(extra) : 0));
  }
}
