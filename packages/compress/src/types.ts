// The sparse row ("second probability matrix") and the labelled document that carries it:
// the shapes every later stage (codec, alignment, trainer) consumes.

/**
 * One position's kept probabilities, teacher ids in probability-descending order (ties: lower
 * id first).
 *
 * In sampled and hybrid rows, `probs[i]` is the importance-weighted estimate
 * p̂(id) = (1/n) · Σ over draws j that hit id of p(id) / r(id), with n draws from a proposal r;
 * E[p̂(id)] = p(id) for every id of the vocabulary (ids never drawn estimate 0), so a target
 * built by scattering `probs` onto the vocabulary, without renormalizing, is unbiased. Hybrid
 * head entries are exact. `tailMass` is then 1 − Σprobs clamped at 0: 0 for draws at proposal
 * temperature 1, otherwise the estimate's shortfall (treat it as unassigned mass).
 */
export interface SparseRow {
  ids: Uint32Array;
  probs: Float32Array;
  /** 1 − Σprobs: the mass that was not kept; never silently dropped. */
  tailMass: number;
}

/**
 * Many sparse rows in flat arrays (no per-row objects on hot paths).
 * Row i holds entries [offsets[i], offsets[i + 1]) of `ids` / `probs`.
 */
export interface SparseRows {
  length: number;
  offsets: Uint32Array;
  ids: Uint32Array;
  probs: Float32Array;
  tailMass: Float32Array;
}

/**
 * How rows are compressed: the user's choice of mode.
 * - fixed: the top k; adaptive: the fewest whose sum reaches p (kMin ≤ kept ≤ kMax);
 * - sampled: `samples` draws from a proposal q ∝ p^(1/proposalTemperature), each distinct id
 *   stored with its importance-weighted estimate (see SparseRow), so the row is an unbiased
 *   estimate of the whole distribution;
 * - hybrid: an adaptive head kept exactly, plus `samples` draws from the rest (the tail).
 * `seed` makes the draws reproducible.
 */
export type CompressionSpec =
  | { mode: 'fixed'; k: number }
  | { mode: 'adaptive'; p: number; kMin: number; kMax: number }
  | { mode: 'sampled'; samples: number; proposalTemperature: number; seed: number }
  | { mode: 'hybrid'; p: number; kMin: number; kMax: number; samples: number; proposalTemperature: number; seed: number };

/** The modes whose rows hold sampled estimates instead of exact probabilities. */
export type SampledSpec = Extract<CompressionSpec, { mode: 'sampled' | 'hybrid' }>;

/**
 * A document as the teacher read it: its text, the teacher's tokens with their
 * character spans in `text` (UTF-16 indices, [start, end) pairs), and for every position t
 * the compressed distribution of the token at t + 1 given tokens 0..t.
 */
export interface LabelledDocument {
  /** Index of the document in corpus order (stable across runs: resume relies on it). */
  index: number;
  /** The corpus id (or file name + line) of the document. */
  id: string;
  /** The task template the text came from (text, code, classify, translate), when known. */
  task?: string;
  text: string;
  tokenIds: Uint32Array;
  /** 2 × tokenIds.length: start, end of each token in `text`, UTF-16 code units. */
  offsets: Uint32Array;
  rows: SparseRows;
}
