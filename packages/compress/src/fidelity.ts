// How much of the teacher's distribution a sparse row keeps: the numbers that justify a choice
// of k or p (captured mass, KL divergence from the full row to the decoded sparse row).

import { CompressError } from './errors.js';
import type { SparseRow } from './types.js';

/** Σprobs of the kept entries (float64 sum): 1 − tailMass before rounding. */
export function capturedMass(row: SparseRow): number {
  let sum = 0;
  for (let i = 0; i < row.probs.length; i++) sum += row.probs[i];
  return sum;
}

/**
 * KL(full ‖ decoded) in nats, where `decoded` is the distribution a consumer rebuilds from `row`:
 * - 'uniform' (default): kept ids get their kept probability, and tailMass is spread evenly
 *   over the ids not kept. It is 0 when the row keeps every id with its exact probability and
 *   never decreases as fewer entries are kept.
 * - 'renormalize': kept probabilities are rescaled to sum to 1 and every other id gets 0. The
 *   result is Infinity as soon as `full` gives positive probability to an id that was not kept,
 *   i.e. for almost every truncated row; use it only to score rows that keep the whole support.
 *
 * Entries where full is 0 contribute 0. Float rounding can make the raw sum a few ulps negative
 * when the decoded row is (almost) exact; that is reported as 0. A kept or tail probability of 0 under positive full
 * probability gives Infinity (the row cannot represent that token at all).
 *
 * @throws CompressError E_INPUT when the row's ids are out of range for `full` or repeat, or
 *   ids and probs differ in length, or for a negative entry in `full`; E_NONFINITE for NaN/Infinity in `full`.
 */
export function klFullToSparse(full: Float32Array, row: SparseRow, options: { tail?: 'uniform' | 'renormalize' } = {}): number {
  const tail = options.tail ?? 'uniform';
  if (tail !== 'uniform' && tail !== 'renormalize') {
    throw new CompressError('E_INPUT', `klFullToSparse: tail must be 'uniform' or 'renormalize', got ${String(tail)}`);
  }
  const vocabSize = full.length;
  const keptLength = row.ids.length;
  if (row.probs.length !== keptLength) {
    throw new CompressError('E_INPUT', `klFullToSparse: the row has ${keptLength} ids but ${row.probs.length} probs; pass a row whose ids and probs have the same length`);
  }
  const kept = new Uint8Array(vocabSize);
  for (let i = 0; i < keptLength; i++) {
    const id = row.ids[i];
    if (id >= vocabSize) {
      throw new CompressError('E_INPUT', `klFullToSparse: row id ${id} is outside the full row of ${vocabSize} probabilities; pass the full row the sparse row was selected from`);
    }
    if (kept[id] === 1) {
      throw new CompressError('E_INPUT', `klFullToSparse: row id ${id} appears twice; a sparse row keeps each id at most once`);
    }
    kept[id] = 1;
  }

  let divergence = 0;
  if (tail === 'uniform') {
    const notKept = vocabSize - keptLength;
    const tailProb = notKept > 0 ? Math.max(0, row.tailMass) / notKept : 0;
    for (let id = 0; id < vocabSize; id++) {
      if (kept[id] === 1) continue;
      divergence += term(full, id, tailProb);
    }
    for (let i = 0; i < keptLength; i++) divergence += term(full, row.ids[i], row.probs[i]);
  } else {
    let keptSum = 0;
    for (let i = 0; i < keptLength; i++) keptSum += row.probs[i];
    for (let id = 0; id < vocabSize; id++) {
      if (kept[id] === 1) continue;
      divergence += term(full, id, 0);
    }
    for (let i = 0; i < keptLength; i++) divergence += term(full, row.ids[i], keptSum > 0 ? row.probs[i] / keptSum : 0);
  }
  // KL is never negative; a float32 row that sums to 1 − ε can make the computed sum dip a few
  // ulps below 0 when the decoded row is (almost) exact, and that is rounding, not information.
  return Math.max(0, divergence);
}

function term(full: Float32Array, id: number, decoded: number): number {
  const truth = full[id];
  if (!Number.isFinite(truth)) {
    throw new CompressError('E_NONFINITE', `klFullToSparse: full[${id}] is ${truth}, expected a finite probability; pass softmax output`);
  }
  if (truth < 0) {
    throw new CompressError('E_INPUT', `klFullToSparse: full[${id}] is ${truth}, expected a probability ≥ 0; pass softmax output, not logits`);
  }
  if (truth === 0) return 0;
  if (decoded <= 0) return Infinity;
  return truth * Math.log(truth / decoded);
}
