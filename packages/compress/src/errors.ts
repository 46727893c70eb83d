// The one error class of @kd/compress: every failure carries a stable code and a message that
// says what was expected, what was found and what to pass instead.

export type CompressErrorCode =
  /** k, kMin or kMax is not a whole number in range (or kMin > kMax). */
  | 'E_K_RANGE'
  /** p is not a number in (0, 1]. */
  | 'E_P_RANGE'
  /** The compression spec is not an object with a known mode. */
  | 'E_SPEC'
  /** A logit or probability is NaN or ±Infinity. */
  | 'E_NONFINITE'
  /** Any other malformed input: empty rows, negative probabilities, bad indices or lengths. */
  | 'E_INPUT';

export class CompressError extends Error {
  readonly code: CompressErrorCode;
  constructor(code: CompressErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CompressError';
    this.code = code;
  }
}
