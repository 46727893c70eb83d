// Adaptive ("top-p") selection: the fewest most probable entries whose probabilities add up to p,
// never fewer than kMin nor more than kMax. Only the kMax best entries are ever ordered.

import { keptCount } from './kept-count.js';
import { validateSpec } from './spec.js';
import { checkNotEmpty, largestEntries, tailMassOf } from './topk.js';
import type { CompressionSpec, SparseRow } from './types.js';

type AdaptiveSpec = Extract<CompressionSpec, { mode: 'adaptive' }>;

/**
 * The fewest most probable entries of `probs` whose sum reaches `p` (running float64 sum in
 * order), clamped to [kMin, min(kMax, probs.length)]; most probable first, ties by lower id.
 * When kMax stops the row first, the kept sum stays below p and tailMass > 1 − p.
 * Defaults: kMin 1, kMax 64.
 *
 * @throws CompressError E_P_RANGE when p ∉ (0, 1]; E_K_RANGE when kMin / kMax are not whole
 *   numbers ≥ 1, kMin > kMax or kMin > probs.length; E_NONFINITE for NaN/Infinity entries;
 *   E_INPUT for an empty, negative or unnormalized row.
 */
export function selectTopP(probs: Float32Array, options: { p: number; kMin?: number; kMax?: number }): SparseRow {
  checkNotEmpty(probs, 'selectTopP');
  // validateSpec keeps the mode and fills the kMin / kMax defaults.
  const spec = validateSpec({ mode: 'adaptive', p: options?.p, kMin: options?.kMin, kMax: options?.kMax } as CompressionSpec, probs.length) as AdaptiveSpec;
  return selectAdaptive(probs, spec, 'selectTopP');
}

/** Selection for an already validated adaptive spec. */
export function selectAdaptive(probs: Float32Array, spec: AdaptiveSpec, caller: string): SparseRow {
  const candidates = Math.min(spec.kMax, probs.length);
  const best = largestEntries(probs, candidates, caller);
  const count = keptCount(best.probs, 0, candidates, spec);
  const ids = count === candidates ? best.ids : best.ids.slice(0, count);
  const kept = count === candidates ? best.probs : best.probs.slice(0, count);
  return { ids, probs: kept, tailMass: tailMassOf(kept) };
}
