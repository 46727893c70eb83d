// How many of a row's already-sorted probabilities a spec keeps: the cut that selection applies
// after ordering, usable directly on ONNX TopK output so that the vocabulary is never re-read.

import { CompressError } from './errors.js';
import type { CompressionSpec } from './types.js';

/**
 * Given `available` probabilities in descending order at `sortedProbs[start..start+available)`,
 * returns how many the spec keeps:
 * - fixed: min(k, available);
 * - sampled: 0 (every entry of a sampled row is an estimate, none is cut from the order);
 * - adaptive, and the exact head of a hybrid row: the fewest whose running sum (float64, in order) reaches p, clamped to
 *   [kMin, min(kMax, available)]. When kMax (or `available`) stops it first, the kept sum stays
 *   below p; when available < kMin, all available are kept.
 *
 * The spec is trusted to have passed validateSpec; only the slice bounds are checked here.
 *
 * @throws CompressError E_INPUT when start/available do not describe a slice of sortedProbs,
 *   E_NONFINITE when a probability read for the running sum is NaN or ±Infinity.
 */
export function keptCount(sortedProbs: ArrayLike<number>, start: number, available: number, spec: CompressionSpec): number {
  if (!(Number.isInteger(start) && Number.isInteger(available) && start >= 0 && available >= 0 && start + available <= sortedProbs.length)) {
    throw new CompressError(
      'E_INPUT',
      `keptCount: start ${start} and available ${available} must be whole numbers ≥ 0 with start + available ≤ ${sortedProbs.length} (the length of sortedProbs); pass the offset and length of one sorted row`,
    );
  }
  if (spec.mode === 'fixed') return Math.min(spec.k, available);
  // A sampled row has no exact head; a hybrid row's head is cut as in adaptive mode.
  if (spec.mode === 'sampled') return 0;

  const limit = Math.min(spec.kMax, available);
  const p = spec.p;
  let sum = 0;
  let count = 0;
  while (count < limit) {
    const value = sortedProbs[start + count];
    if (!Number.isFinite(value)) {
      throw new CompressError('E_NONFINITE', `keptCount: sortedProbs[${start + count}] is ${value}, expected a finite probability; check the softmax / TopK output the row came from`);
    }
    sum += value;
    count++;
    if (sum >= p) break;
  }
  return Math.min(Math.max(count, spec.kMin), limit);
}
