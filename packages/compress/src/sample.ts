// Sampled and hybrid rows: n draws from a proposal distribution, each distinct id stored with
// its importance-weighted estimate, so that the row is an unbiased estimate of the teacher's
// whole distribution (top-k rows are biased: every id outside the top k gets 0).

import { CompressError } from './errors.js';
import { createRandom, type Random } from './random.js';
import { validateSpec } from './spec.js';
import { checkNotEmpty, checkRow } from './topk.js';
import { selectAdaptive } from './topp.js';
import type { CompressionSpec, SampledSpec, SparseRow } from './types.js';

/**
 * Turns an exact head and n weighted draws into one sparse row, reusing its buffers from row to
 * row (the labelling hot path pushes `ids[0..count)` / `probs[0..count)` into a builder).
 *
 * A draw j of id x_j with weight w_j = p(x_j) / r(x_j) (r the proposal it was drawn from)
 * contributes w_j / n to the estimate of x_j; duplicates add up. Head ids must not be drawn
 * (hybrid draws come from outside the head by construction).
 */
export class SampledRowAssembler {
  ids: Uint32Array;
  probs: Float32Array;
  /** Entries of the last assembled row. */
  count = 0;
  /** 1 − Σprobs of the last assembled row, clamped at 0. */
  tailMass = 0;
  #drawIds: Uint32Array;
  #drawWeights: Float64Array;

  constructor(capacity = 128) {
    this.ids = new Uint32Array(capacity);
    this.probs = new Float32Array(capacity);
    this.#drawIds = new Uint32Array(capacity);
    this.#drawWeights = new Float64Array(capacity);
  }

  /**
   * Assembles head entries `headIds/headProbs[headStart .. headStart+headCount)` (exact, in
   * descending order) and draws `drawIds/drawWeights[drawStart .. drawStart+draws)`; the estimates
   * divide by `draws`. Returns the entry count; the row is in `ids` / `probs`, ordered by
   * probability descending, ties lower id first.
   */
  assemble(
    headIds: ArrayLike<number>,
    headProbs: ArrayLike<number>,
    headStart: number,
    headCount: number,
    drawIds: ArrayLike<number>,
    drawWeights: ArrayLike<number>,
    drawStart: number,
    draws: number,
  ): number {
    const capacity = headCount + draws;
    if (capacity > this.ids.length) {
      const size = Math.max(capacity, this.ids.length * 2);
      this.ids = new Uint32Array(size);
      this.probs = new Float32Array(size);
      this.#drawIds = new Uint32Array(size);
      this.#drawWeights = new Float64Array(size);
    }
    const sortedIds = this.#drawIds;
    const sortedWeights = this.#drawWeights;
    // Insertion sort of the draws by id (n is small), so duplicates sit side by side.
    for (let j = 0; j < draws; j++) {
      const id = drawIds[drawStart + j];
      const weight = drawWeights[drawStart + j];
      let at = j;
      while (at > 0 && sortedIds[at - 1] > id) {
        sortedIds[at] = sortedIds[at - 1];
        sortedWeights[at] = sortedWeights[at - 1];
        at--;
      }
      sortedIds[at] = id;
      sortedWeights[at] = weight;
    }
    const ids = this.ids;
    const probs = this.probs;
    let sum = 0;
    let count = 0;
    for (let i = 0; i < headCount; i++) {
      ids[count] = headIds[headStart + i];
      probs[count] = headProbs[headStart + i];
      sum += probs[count];
      count++;
    }
    const scale = draws > 0 ? 1 / draws : 0;
    for (let j = 0; j < draws; ) {
      const id = sortedIds[j];
      let weight = 0;
      while (j < draws && sortedIds[j] === id) weight += sortedWeights[j++];
      // A draw of weight 0 carries no estimate (e.g. nothing outside a hybrid head had mass).
      if (weight === 0) continue;
      // Above 1 only when a flattened proposal rarely hits a likely id many times; a probability
      // row cannot hold it (the clamp costs a bias far below the estimate's own spread).
      const estimate = Math.min(1, weight * scale);
      // Insert by (estimate descending, id ascending) among what is there already.
      let at = count;
      const value = Math.fround(estimate);
      while (at > 0 && (probs[at - 1] < value || (probs[at - 1] === value && ids[at - 1] > id))) {
        ids[at] = ids[at - 1];
        probs[at] = probs[at - 1];
        at--;
      }
      ids[at] = id;
      probs[at] = value;
      sum += value;
      count++;
    }
    this.count = count;
    this.tailMass = Math.max(0, 1 - sum);
    return count;
  }
}

/**
 * Draws a sampled or hybrid row from a full probability row (the reference path; labelling
 * draws inside the teacher's graph instead).
 *
 * - sampled: `samples` draws from q ∝ p^(1/proposalTemperature) over the whole vocabulary;
 * - hybrid: the adaptive head (p, kMin, kMax) exactly, then `samples` draws from the ids
 *   outside it, with q ∝ p^(1/proposalTemperature) restricted to them.
 *
 * Each distinct drawn id gets p̂ = (count-weighted Σ p/q) / samples: E[p̂(x)] = p(x) for every
 * x outside the head. `random` defaults to a fresh stream of `spec.seed`; pass one stream per
 * row (createRandom(seed, rowIndex)) to draw rows independently.
 *
 * @throws CompressError E_SPEC for a spec that is not sampled or hybrid, plus validateSpec's and
 *   the row checks of selectRow (E_NONFINITE, E_INPUT).
 */
export function sampleRow(probs: Float32Array, spec: CompressionSpec, random?: Random, assembler = new SampledRowAssembler()): SparseRow {
  checkNotEmpty(probs, 'sampleRow');
  const valid = validateSpec(spec, probs.length);
  if (valid.mode !== 'sampled' && valid.mode !== 'hybrid') {
    throw new CompressError('E_SPEC', `sampleRow: expected a 'sampled' or 'hybrid' spec, got mode '${valid.mode}'; use selectRow for fixed and adaptive rows`);
  }
  const draw = random ?? createRandom(valid.seed);
  const length = probs.length;
  let head: SparseRow | undefined;
  if (valid.mode === 'hybrid') {
    head = selectAdaptive(probs, { mode: 'adaptive', p: valid.p, kMin: valid.kMin, kMax: valid.kMax }, 'sampleRow');
  } else {
    let sum = 0;
    let negative = false;
    for (let i = 0; i < length; i++) {
      sum += probs[i];
      if (probs[i] < 0) negative = true;
    }
    checkRow(probs, sum, negative, 'sampleRow');
  }
  const { cumulative, total } = proposalCumulative(probs, valid, head?.ids);
  const draws = total > 0 ? valid.samples : 0;
  const drawIds = new Uint32Array(draws);
  const drawWeights = new Float64Array(draws);
  const exponent = 1 / valid.proposalTemperature;
  for (let j = 0; j < draws; j++) {
    const id = upperBound(cumulative, draw() * total);
    drawIds[j] = id;
    const p = probs[id];
    // w = p / q with q = p^(1/T) / total; for T = 1 this is the total itself.
    drawWeights[j] = exponent === 1 ? total : (p * total) / p ** exponent;
  }
  const headIds = head?.ids ?? new Uint32Array(0);
  const count = assembler.assemble(headIds, head?.probs ?? new Float32Array(0), 0, headIds.length, drawIds, drawWeights, 0, draws);
  return { ids: assembler.ids.slice(0, count), probs: assembler.probs.slice(0, count), tailMass: assembler.tailMass };
}

/** Running sums of the proposal weights p^(1/T) over the ids outside `exclude` (float64). */
function proposalCumulative(probs: Float32Array, spec: SampledSpec, exclude: Uint32Array | undefined): { cumulative: Float64Array; total: number } {
  const excluded = new Uint8Array(probs.length);
  if (exclude) for (let i = 0; i < exclude.length; i++) excluded[exclude[i]] = 1;
  const exponent = 1 / spec.proposalTemperature;
  const cumulative = new Float64Array(probs.length);
  let total = 0;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i];
    if (excluded[i] === 0 && p > 0) total += exponent === 1 ? p : p ** exponent;
    cumulative[i] = total;
  }
  return { cumulative, total };
}

/** The first index whose running sum exceeds `target` (ids of zero weight are never chosen). */
function upperBound(cumulative: Float64Array, target: number): number {
  let low = 0;
  let high = cumulative.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (cumulative[middle] > target) high = middle;
    else low = middle + 1;
  }
  return low;
}
