// Full-distribution rows: the teacher's whole softmax at τ of a position, nothing selected or
// quantized. A fold adds each teacher id's probability into one column (e.g. the student id
// a vocabulary map gives it), so a row holds one entry per column instead of one per teacher
// id: a consumer on a smaller vocabulary never holds [positions, teacher vocabulary] rows.
import type { SparseRowsBuilder } from '@kd/compress';
import { TeacherError } from './errors.js';

/** How full rows are folded: teacher id → column, and the id each column stands for. */
export interface DistributionFold {
  /** Per teacher id: the column its probability is added to, or −1 (its mass goes to the row's tail). */
  columnOf: Int32Array;
  /** The id of each column in the rows (e.g. distinct student ids). */
  ids: Uint32Array;
}

/** The unfolded full row: one column per teacher id, the id itself. */
export function identityFold(vocabSize: number): DistributionFold {
  const ids = new Uint32Array(vocabSize);
  for (let id = 0; id < vocabSize; id++) ids[id] = id;
  return { columnOf: Int32Array.from(ids), ids };
}

/** Folds one softmax row after another into a rows builder. */
export class RowFolder {
  readonly #fold: DistributionFold;
  readonly #vocabSize: number;
  // float64 sums: a column adds up many small probabilities, and Σ = 1 must hold to float32 rounding.
  readonly #sums: Float64Array;

  constructor(fold: DistributionFold, vocabSize: number) {
    if (fold.columnOf.length !== vocabSize) {
      throw new TeacherError('E_OPTIONS', `fold.columnOf has ${fold.columnOf.length} entries but the teacher's vocabulary ${vocabSize}; build the fold for this teacher`);
    }
    for (let id = 0; id < vocabSize; id++) {
      const column = fold.columnOf[id];
      if (column < -1 || column >= fold.ids.length) {
        throw new TeacherError('E_OPTIONS', `fold.columnOf[${id}] is ${column}, expected −1 or a column in [0, ${fold.ids.length}) of fold.ids`);
      }
    }
    this.#fold = fold;
    this.#vocabSize = vocabSize;
    this.#sums = new Float64Array(fold.ids.length);
  }

  /** Entries per row. */
  get width(): number {
    return this.#fold.ids.length;
  }

  /** Folds probabilities[base, base + vocabSize) and appends it as one row, Σ probs + tail = 1 (tail: the mass of unfolded ids). */
  push(rows: SparseRowsBuilder, probabilities: Float32Array, base: number): void {
    const sums = this.#sums;
    const { columnOf, ids } = this.#fold;
    sums.fill(0);
    let dropped = 0;
    for (let id = 0; id < this.#vocabSize; id++) {
      const column = columnOf[id];
      if (column >= 0) sums[column] += probabilities[base + id];
      else dropped += probabilities[base + id];
    }
    // onnxruntime's float32 Softmax sums to 1 only within ~1e-5: the row is renormalized here.
    let total = dropped;
    for (let column = 0; column < sums.length; column++) total += sums[column];
    for (let column = 0; column < sums.length; column++) sums[column] /= total;
    rows.push(ids, sums, 0, sums.length, dropped / total);
  }
}
