// One entry point for every mode: the teacher and the pipeline select rows by spec, not by name.

import type { Random } from './random.js';
import { sampleRow } from './sample.js';
import { validateSpec } from './spec.js';
import { checkNotEmpty, largestEntries, tailMassOf } from './topk.js';
import { selectAdaptive } from './topp.js';
import type { CompressionSpec, SparseRow } from './types.js';

/**
 * Compresses one probability row as `spec` says: fixed → selectTopK, adaptive → selectTopP,
 * sampled and hybrid → sampleRow (with `random`, default a fresh stream of the spec's seed).
 * Throws the same CompressErrors as those, plus E_SPEC for an unknown mode.
 */
export function selectRow(probs: Float32Array, spec: CompressionSpec, random?: Random): SparseRow {
  checkNotEmpty(probs, 'selectRow');
  const valid = validateSpec(spec, probs.length);
  if (valid.mode === 'sampled' || valid.mode === 'hybrid') return sampleRow(probs, valid, random);
  if (valid.mode === 'adaptive') return selectAdaptive(probs, valid, 'selectRow');
  const kept = largestEntries(probs, valid.k, 'selectRow');
  return { ids: kept.ids, probs: kept.probs, tailMass: tailMassOf(kept.probs) };
}
