// One entry point for every mode: the teacher and the pipeline select rows by spec, not by name.

import { validateSpec } from './spec.js';
import { checkNotEmpty, largestEntries, tailMassOf } from './topk.js';
import { selectAdaptive } from './topp.js';
import type { CompressionSpec, SparseRow } from './types.js';

/**
 * Compresses one probability row as `spec` says: fixed → selectTopK, adaptive → selectTopP.
 * Throws the same CompressErrors as those, plus E_SPEC for an unknown mode.
 */
export function selectRow(probs: Float32Array, spec: CompressionSpec): SparseRow {
  checkNotEmpty(probs, 'selectRow');
  const valid = validateSpec(spec, probs.length);
  if (valid.mode === 'adaptive') return selectAdaptive(probs, valid, 'selectRow');
  const kept = largestEntries(probs, valid.k, 'selectRow');
  return { ids: kept.ids, probs: kept.probs, tailMass: tailMassOf(kept.probs) };
}
