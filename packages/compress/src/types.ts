// The sparse row ("second probability matrix") and the labelled document that carries it:
// the shapes every later stage (codec, alignment, trainer) consumes.

/** One position's kept probabilities, teacher ids in probability-descending order. */
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

/** How rows are compressed: the user's choice of mode. */
export type CompressionSpec =
  | { mode: 'fixed'; k: number }
  | { mode: 'adaptive'; p: number; kMin: number; kMax: number };

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
