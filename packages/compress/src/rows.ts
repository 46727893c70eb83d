// Many sparse rows in flat typed arrays: a growable builder for producers (the teacher) and
// zero-copy views for consumers (codec, trainer).

import { CompressError } from './errors.js';
import { PROBABILITY_SUM_TOLERANCE } from './topk.js';
import type { SparseRow, SparseRows } from './types.js';

/**
 * Collects rows into flat arrays that grow by doubling, so pushing a row costs a copy of its
 * entries and no per-row object.
 */
export class SparseRowsBuilder {
  #rows = 0;
  #entries = 0;
  #offsets: Uint32Array;
  #ids: Uint32Array;
  #probs: Float32Array;
  #tailMass: Float32Array;

  /** Capacities are hints only: the builder grows past them. */
  constructor(expectedRows = 64, expectedEntries = expectedRows * 16) {
    const rowCapacity = Math.max(1, Math.floor(Number.isFinite(expectedRows) ? expectedRows : 0));
    const entryCapacity = Math.max(1, Math.floor(Number.isFinite(expectedEntries) ? expectedEntries : 0));
    this.#offsets = new Uint32Array(rowCapacity + 1);
    this.#tailMass = new Float32Array(rowCapacity);
    this.#ids = new Uint32Array(entryCapacity);
    this.#probs = new Float32Array(entryCapacity);
  }

  /** Number of rows pushed so far. */
  get length(): number {
    return this.#rows;
  }

  /**
   * Appends one row made of `ids[start..start+count)` and `probs[start..start+count)` (e.g. one
   * row of a batched ONNX TopK output) with its tail mass.
   *
   * @throws CompressError E_INPUT for a slice outside the arrays, an id that is not a whole number
   *   in [0, 2³²), or a tailMass outside [0, 1] by more than float rounding (it is stored clamped to [0, 1]);
   *   E_NONFINITE for a NaN/Infinity probability or tailMass.
   */
  push(ids: ArrayLike<number>, probs: ArrayLike<number>, start: number, count: number, tailMass: number): void {
    if (!(Number.isInteger(start) && Number.isInteger(count) && start >= 0 && count >= 0 && start + count <= ids.length && start + count <= probs.length)) {
      throw new CompressError(
        'E_INPUT',
        `SparseRowsBuilder.push: start ${start} and count ${count} must be whole numbers ≥ 0 with start + count ≤ ${Math.min(ids.length, probs.length)} (the shorter of ids and probs); pass the offset and length of one row`,
      );
    }
    if (!Number.isFinite(tailMass)) {
      throw new CompressError('E_NONFINITE', `SparseRowsBuilder.push: tailMass is ${tailMass}, expected a finite number in [0, 1]; pass 1 − Σprobs of the row`);
    }
    if (tailMass < -PROBABILITY_SUM_TOLERANCE || tailMass > 1 + PROBABILITY_SUM_TOLERANCE) {
      throw new CompressError('E_INPUT', `SparseRowsBuilder.push: tailMass is ${tailMass}, expected a number in [0, 1]; pass 1 − Σprobs of a normalized row`);
    }
    this.#reserve(this.#rows + 1, this.#entries + count);
    const base = this.#entries;
    const targetIds = this.#ids;
    const targetProbs = this.#probs;
    for (let i = 0; i < count; i++) {
      const id = ids[start + i];
      // id >>> 0 === id holds exactly for whole numbers in [0, 2³²): a Uint32Array would wrap the rest silently.
      if (id >>> 0 !== id) {
        throw new CompressError('E_INPUT', `SparseRowsBuilder.push: ids[${start + i}] is ${id}, expected a whole token id in [0, 2³²); convert int64 ids with Number() first`);
      }
      const prob = probs[start + i];
      if (!Number.isFinite(prob)) {
        throw new CompressError('E_NONFINITE', `SparseRowsBuilder.push: probs[${start + i}] is ${prob}, expected a finite probability; check the row's source`);
      }
      targetIds[base + i] = id;
      targetProbs[base + i] = prob;
    }
    this.#entries = base + count;
    // 1 − Σprobs computed in float32 can land a hair outside [0, 1]; store the true bound.
    this.#tailMass[this.#rows] = Math.min(1, Math.max(0, tailMass));
    this.#rows++;
    this.#offsets[this.#rows] = this.#entries;
  }

  /** Returns the rows pushed so far as right-sized copies; the builder stays usable. */
  build(): SparseRows {
    return {
      length: this.#rows,
      offsets: this.#offsets.slice(0, this.#rows + 1),
      ids: this.#ids.slice(0, this.#entries),
      probs: this.#probs.slice(0, this.#entries),
      tailMass: this.#tailMass.slice(0, this.#rows),
    };
  }

  #reserve(rows: number, entries: number): void {
    if (rows > this.#tailMass.length) {
      const capacity = Math.max(rows, this.#tailMass.length * 2);
      this.#offsets = grow(this.#offsets, new Uint32Array(capacity + 1));
      this.#tailMass = grow(this.#tailMass, new Float32Array(capacity));
    }
    if (entries > this.#ids.length) {
      if (entries > 0xffffffff) {
        throw new CompressError('E_INPUT', `SparseRowsBuilder.push: ${entries} entries exceed the 2³² − 1 that Uint32 offsets can address; split the rows into several documents`);
      }
      const capacity = Math.min(0xffffffff, Math.max(entries, this.#ids.length * 2));
      this.#ids = grow(this.#ids, new Uint32Array(capacity));
      this.#probs = grow(this.#probs, new Float32Array(capacity));
    }
  }
}

function grow<T extends Uint32Array | Float32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

/** Row `index` of `rows` as subarray views into the flat arrays (no copy). */
export function rowAt(rows: SparseRows, index: number): SparseRow {
  if (!(Number.isInteger(index) && index >= 0 && index < rows.length)) {
    throw new CompressError('E_INPUT', `rowAt: index ${index} is out of range; expected a whole number in [0, ${rows.length})`);
  }
  const begin = rows.offsets[index];
  const end = rows.offsets[index + 1];
  return { ids: rows.ids.subarray(begin, end), probs: rows.probs.subarray(begin, end), tailMass: rows.tailMass[index] };
}

/**
 * Rows [start, end) as a SparseRows of their own. ids, probs and tailMass are views that share
 * memory with `rows`; only the offsets are new (rebased to start at 0).
 */
export function sliceRows(rows: SparseRows, start: number, end: number): SparseRows {
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= rows.length)) {
    throw new CompressError('E_INPUT', `sliceRows: [${start}, ${end}) is not a range of rows; expected whole numbers with 0 ≤ start ≤ end ≤ ${rows.length}`);
  }
  const base = rows.offsets[start];
  const offsets = new Uint32Array(end - start + 1);
  for (let i = 0; i <= end - start; i++) offsets[i] = rows.offsets[start + i] - base;
  return {
    length: end - start,
    offsets,
    ids: rows.ids.subarray(base, rows.offsets[end]),
    probs: rows.probs.subarray(base, rows.offsets[end]),
    tailMass: rows.tailMass.subarray(start, end),
  };
}
