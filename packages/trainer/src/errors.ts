// The one error class of @kd/trainer: every failure carries a stable code and a message that
// says what was expected, what was found and what to do.

export type TrainerErrorCode =
  | 'E_CONFIG'
  | 'E_OPTIONS'
  | 'E_BACKEND'
  /** The training engine asked for cannot run here (onnxruntime-node not installed). */
  | 'E_ENGINE'
  | 'E_DATA'
  | 'E_TOKENIZER'
  | 'E_MEMORY'
  | 'E_NONFINITE_LOSS'
  | 'E_CHECKPOINT'
  /** A checkpoint file does not match its sha256 in checksums.json (or there is none to check). */
  | 'E_CHECKSUM'
  | 'E_EXPORT'
  /** The export folder is not safe to write: a file, a folder of other files, the working directory, the run itself. */
  | 'E_EXPORT_TARGET';

export class TrainerError extends Error {
  readonly code: TrainerErrorCode;
  constructor(code: TrainerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TrainerError';
    this.code = code;
  }
}
