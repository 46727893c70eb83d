// The one error class of @kd/teacher: every failure carries a stable code and a message that
// says what was expected, what was found and what to do.

export type TeacherErrorCode =
  | 'E_MODEL_NOT_FOUND'
  | 'E_TOKENIZER_NOT_FOUND'
  | 'E_MODEL_INPUTS'
  | 'E_MODEL_OUTPUTS'
  | 'E_MODEL_FORMAT'
  /** onnxruntime failed while running the model (a shape or index the graph rejects). */
  | 'E_MODEL_RUN'
  /** The requested device's execution provider is not available in this onnxruntime installation. */
  | 'E_DEVICE'
  | 'E_OPTIONS';

export class TeacherError extends Error {
  readonly code: TeacherErrorCode;
  constructor(code: TeacherErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TeacherError';
    this.code = code;
  }
}
