// The one error class of @kd/lm-signature. Packages that read signatures for their own users
// rethrow it under their own codes, with this message and this error as the cause.

export type SignatureErrorCode =
  /** An input the caller cannot feed, a missing input_ids, or a cache input of unknown shape. */
  | 'E_INPUTS'
  /** No logits output, or logits of a type or rank the caller cannot read. */
  | 'E_OUTPUTS';

export class SignatureError extends Error {
  readonly code: SignatureErrorCode;
  constructor(code: SignatureErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SignatureError';
    this.code = code;
  }
}
