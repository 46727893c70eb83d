// The one error class of @kd/codec-parquet: every failure carries a stable code and a message
// that says what was expected, what was found and what to do.

export type CodecErrorCode =
  /** A part's bytes do not match the sha256 the manifest recorded for it. */
  | 'E_CHECKSUM'
  /** The dataset was written in a format version this reader does not read. */
  | 'E_FORMAT_VERSION'
  /** The dataset was labelled with another tokenizer than the one the caller expects. */
  | 'E_TOKENIZER_MISMATCH'
  /** manifest.json is missing, unparsable or inconsistent with the parts beside it. */
  | 'E_MANIFEST'
  /** More distinct data units than the hash width can give codes to (collisions themselves are resolved). */
  | 'E_HASH_COLLISION'
  /** A file could not be read, written, synced or renamed. */
  | 'E_IO'
  /** A folder that already holds data was opened for writing without `resume`. */
  | 'E_EXISTS'
  /** `resume` found a dataset written with another teacher, tokenizer, spec or quantization. */
  | 'E_HEADER_MISMATCH'
  /** The dataset was never closed (complete=false) and the reader was not told to accept that. */
  | 'E_INCOMPLETE'
  /** A part does not hold what its schema promises (columns, lengths, codes). */
  | 'E_PART_FORMAT'
  /** A document or option handed to the codec breaks its contract (order, shapes, ranges). */
  | 'E_INPUT'
  /** The writer was used after close. */
  | 'E_CLOSED';

export class CodecError extends Error {
  readonly code: CodecErrorCode;
  constructor(code: CodecErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CodecError';
    this.code = code;
  }
}
