// What a stored row still tells a student, measured against the teacher's full softmax over many
// positions: captured mass, KL(full ‖ decoded), top-1 agreement and expected calibration error.

import { CompressError } from './errors.js';
import { klFullToSparse } from './fidelity.js';
import type { SparseRow } from './types.js';

/** Averages over the positions a FidelityMeter saw. */
export interface FidelityReport {
  positions: number;
  meanKept: number;
  /** Mean Σ full[id] over the ids a row keeps (the true mass of what was stored). */
  capturedMass: number;
  /** Mean KL(full ‖ decoded) in nats; the decoded row spreads max(tailMass, tailFloor) over the ids it does not keep. */
  klFullDecoded: number;
  /** Share of positions where the row's first id is the full distribution's most probable id. */
  top1Agreement: number;
  /**
   * Expected calibration error of the decoded row as a next-token predictor: positions binned by
   * the row's first probability (equal-width bins), |accuracy − confidence| weighted by bin size;
   * accuracy is whether the row's first id is the token that actually came next.
   */
  ece: number;
  /** The same for the full distribution, the reference the decoded ECE compares to. */
  eceFull: number;
  /** Positions with a known next token (the ECE counts only those). */
  calibrationPositions: number;
}

export interface FidelityMeterOptions {
  /** Calibration bins over [0, 1] (default 15). */
  bins?: number;
  /**
   * Tail mass assumed at least, so a row that stores a tail of 0 (below its resolution, or a
   * sampled row) decodes to a small probability for unkept ids instead of an infinite KL
   * (default 0.5 / 65535, half a step of the codec's 16-bit tail).
   */
  tailFloor?: number;
}

export class FidelityMeter {
  readonly #bins: number;
  readonly #tailFloor: number;
  #positions = 0;
  #kept = 0;
  #captured = 0;
  #kl = 0;
  #agree = 0;
  #calibration = 0;
  readonly #decodedBins: Float64Array;
  readonly #fullBins: Float64Array;

  constructor(options: FidelityMeterOptions = {}) {
    this.#bins = options.bins ?? 15;
    this.#tailFloor = options.tailFloor ?? 0.5 / 65535;
    if (!(Number.isInteger(this.#bins) && this.#bins >= 1)) {
      throw new CompressError('E_INPUT', `FidelityMeter: bins must be a whole number ≥ 1, got ${String(options.bins)}; pass e.g. bins: 15`);
    }
    if (!(this.#tailFloor >= 0 && this.#tailFloor < 1)) {
      throw new CompressError('E_INPUT', `FidelityMeter: tailFloor must be in [0, 1), got ${String(options.tailFloor)}; pass e.g. 1e-5`);
    }
    // Per bin: count, Σ confidence, Σ correct.
    this.#decodedBins = new Float64Array(3 * this.#bins);
    this.#fullBins = new Float64Array(3 * this.#bins);
  }

  /**
   * Adds one position: `full` is the teacher's whole distribution there, `row` what was stored
   * (decoded), `nextToken` the token that came next (leave it out at a document's last position).
   */
  add(full: Float32Array, row: SparseRow, nextToken?: number): void {
    let captured = 0;
    for (let i = 0; i < row.ids.length; i++) captured += full[row.ids[i]];
    let best = 0;
    for (let id = 1; id < full.length; id++) if (full[id] > full[best]) best = id;
    const kl = klFullToSparse(full, { ids: row.ids, probs: row.probs, tailMass: Math.max(row.tailMass, this.#tailFloor) });
    this.#positions++;
    this.#kept += row.ids.length;
    this.#captured += captured;
    this.#kl += kl;
    const first = row.ids.length > 0 ? row.ids[0] : -1;
    if (first === best) this.#agree++;
    if (nextToken !== undefined) {
      this.#calibration++;
      addToBin(this.#decodedBins, this.#bins, row.ids.length > 0 ? row.probs[0] : 0, first === nextToken);
      addToBin(this.#fullBins, this.#bins, full[best], best === nextToken);
    }
  }

  report(): FidelityReport {
    const n = Math.max(1, this.#positions);
    return {
      positions: this.#positions,
      meanKept: this.#kept / n,
      capturedMass: this.#captured / n,
      klFullDecoded: this.#kl / n,
      top1Agreement: this.#agree / n,
      ece: expectedCalibrationError(this.#decodedBins, this.#bins),
      eceFull: expectedCalibrationError(this.#fullBins, this.#bins),
      calibrationPositions: this.#calibration,
    };
  }
}

function addToBin(bins: Float64Array, count: number, confidence: number, correct: boolean): void {
  const clamped = Math.min(1, Math.max(0, confidence));
  const bin = Math.min(count - 1, Math.floor(clamped * count));
  bins[3 * bin] += 1;
  bins[3 * bin + 1] += clamped;
  bins[3 * bin + 2] += correct ? 1 : 0;
}

function expectedCalibrationError(bins: Float64Array, count: number): number {
  let total = 0;
  for (let bin = 0; bin < count; bin++) total += bins[3 * bin];
  if (total === 0) return 0;
  let error = 0;
  for (let bin = 0; bin < count; bin++) {
    const n = bins[3 * bin];
    if (n > 0) error += (n / total) * Math.abs(bins[3 * bin + 2] / n - bins[3 * bin + 1] / n);
  }
  return error;
}
