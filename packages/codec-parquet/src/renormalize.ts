// Quantized probabilities do not add up to exactly one: with u8-log each decoded probability
// is off by up to 2.8 %, so a row's kept mass plus its tail lies within about ±2.8 % of 1.
// A consumer that needs distributions scales each row (kept probabilities and tail together)
// to sum to 1; this is that scaling, applied in place.
import type { SparseRows } from '@kd/compress';

/** Scales every row so that Σprobs + tailMass = 1 (rows with no mass are left alone). */
export function renormalizeRows(rows: SparseRows): SparseRows {
  for (let row = 0; row < rows.length; row++) {
    let sum = rows.tailMass[row];
    for (let i = rows.offsets[row]; i < rows.offsets[row + 1]; i++) sum += rows.probs[i];
    if (!(sum > 0)) continue;
    const scale = 1 / sum;
    for (let i = rows.offsets[row]; i < rows.offsets[row + 1]; i++) rows.probs[i] *= scale;
    rows.tailMass[row] *= scale;
  }
  return rows;
}
