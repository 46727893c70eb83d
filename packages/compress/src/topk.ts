// Fixed-mode selection (the top k of a probability row) and the bounded-heap kernel that every
// mode shares: O(V log k) and, for the usual k ≪ V, one comparison per entry; the vocabulary is
// never sorted.
//
// Order rule used everywhere in this package: higher probability first, and among equal
// probabilities the lower id first (ONNX TopK also prefers the lower index), so results are
// deterministic and match a sort by (probability descending, id ascending).

import { CompressError } from './errors.js';
import { validateSpec } from './spec.js';
import type { SparseRow } from './types.js';

/**
 * The k most probable entries of `probs`, most probable first (ties: lower id first), with
 * tailMass = 1 − Σkept (clamped at 0 against float rounding).
 *
 * @throws CompressError E_K_RANGE when k is not a whole number in [1, probs.length],
 *   E_NONFINITE for NaN/Infinity entries, E_INPUT for an empty, negative or unnormalized row.
 */
export function selectTopK(probs: Float32Array, options: { k: number }): SparseRow {
  checkNotEmpty(probs, 'selectTopK');
  const { k } = validateSpec({ mode: 'fixed', k: options?.k }, probs.length) as { k: number };
  const kept = largestEntries(probs, k, 'selectTopK');
  return { ids: kept.ids, probs: kept.probs, tailMass: tailMassOf(kept.probs) };
}

/** 1 − Σprobs, summed in float64; never below 0 (a full row may add up to 1 + ε). */
export function tailMassOf(probs: ArrayLike<number>, count = probs.length): number {
  let sum = 0;
  for (let i = 0; i < count; i++) sum += probs[i];
  return Math.max(0, 1 - sum);
}

/** How far Σprobs may stray from 1 before a row is refused as "not a probability row". */
export const PROBABILITY_SUM_TOLERANCE = 1e-3;

/**
 * The `count` best entries of `probs` (1 ≤ count ≤ probs.length), best first, after checking
 * that `probs` is a probability row: finite, non-negative, summing to 1 within tolerance.
 * `caller` names the public function in error messages.
 */
export function largestEntries(probs: Float32Array, count: number, caller: string): { ids: Uint32Array; probs: Float32Array } {
  const length = probs.length;
  // The heap lives in the output arrays; the root (index 0) is the worst entry kept so far.
  const heapIds = new Uint32Array(count);
  const heapProbs = new Float32Array(count);
  let sum = 0;
  let negative = false;

  for (let i = 0; i < count; i++) {
    const value = probs[i];
    sum += value;
    if (value < 0) negative = true;
    // Sift up: entries arrive in increasing id order, so on equal probability the newcomer is the worse one.
    let position = i;
    while (position > 0) {
      const parent = (position - 1) >> 1;
      const parentProb = heapProbs[parent];
      if (value <= parentProb) {
        heapProbs[position] = parentProb;
        heapIds[position] = heapIds[parent];
        position = parent;
      } else break;
    }
    heapProbs[position] = value;
    heapIds[position] = i;
  }

  let root = heapProbs[0];
  for (let i = count; i < length; i++) {
    const value = probs[i];
    sum += value;
    if (value < 0) negative = true;
    // A later id with the same probability never beats a kept one, hence strict >.
    if (value > root) {
      heapProbs[0] = value;
      heapIds[0] = i;
      siftDown(heapProbs, heapIds, 0, count);
      root = heapProbs[0];
    }
  }

  checkRow(probs, sum, negative, caller);

  // Heap sort in place: the worst entry moves to the end each round, leaving the best at index 0.
  for (let end = count - 1; end > 0; end--) {
    const lastProb = heapProbs[end];
    const lastId = heapIds[end];
    heapProbs[end] = heapProbs[0];
    heapIds[end] = heapIds[0];
    heapProbs[0] = lastProb;
    heapIds[0] = lastId;
    siftDown(heapProbs, heapIds, 0, end);
  }
  return { ids: heapIds, probs: heapProbs };
}

function siftDown(heapProbs: Float32Array, heapIds: Uint32Array, start: number, size: number): void {
  let position = start;
  const prob = heapProbs[position];
  const id = heapIds[position];
  for (;;) {
    let child = 2 * position + 1;
    if (child >= size) break;
    let childProb = heapProbs[child];
    let childId = heapIds[child];
    const right = child + 1;
    if (right < size) {
      const rightProb = heapProbs[right];
      const rightId = heapIds[right];
      if (rightProb < childProb || (rightProb === childProb && rightId > childId)) {
        child = right;
        childProb = rightProb;
        childId = rightId;
      }
    }
    // Move the worse child up while it is worse than the entry being placed.
    if (childProb < prob || (childProb === prob && childId > id)) {
      heapProbs[position] = childProb;
      heapIds[position] = childId;
      position = child;
    } else break;
  }
  heapProbs[position] = prob;
  heapIds[position] = id;
}

export function checkRow(probs: Float32Array, sum: number, negative: boolean, caller: string): void {
  if (!Number.isFinite(sum)) {
    const index = probs.findIndex((value) => !Number.isFinite(value));
    throw new CompressError('E_NONFINITE', `${caller}: probs[${index}] is ${probs[index]}, expected a finite probability; check the logits the row came from (softmax refuses NaN/Infinity)`);
  }
  if (negative) {
    const index = probs.findIndex((value) => value < 0);
    throw new CompressError('E_INPUT', `${caller}: probs[${index}] is ${probs[index]}, expected a probability ≥ 0; pass softmax output, not logits`);
  }
  if (Math.abs(sum - 1) > PROBABILITY_SUM_TOLERANCE) {
    throw new CompressError('E_INPUT', `${caller}: the probabilities add up to ${sum}, expected 1 (±${PROBABILITY_SUM_TOLERANCE}); pass a normalized row such as softmax output`);
  }
}

/** Refuses an empty row before any selection starts. */
export function checkNotEmpty(probs: Float32Array, caller: string): void {
  if (!probs || probs.length === 0) {
    throw new CompressError('E_INPUT', `${caller}: expected a probability row with at least one entry, got ${probs ? 'an empty row' : String(probs)}; pass one vocabulary-size row`);
  }
}
