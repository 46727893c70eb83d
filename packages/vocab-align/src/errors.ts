// The one error class of @kd/vocab-align: every failure carries a stable code and a message
// that says what was expected, what was found and what to do.

export type AlignErrorCode =
  | 'E_UNMAPPABLE'
  | 'E_UNMAPPED'
  | 'E_CACHE'
  | 'E_MAP_MISMATCH'
  | 'E_INPUT';

export class AlignError extends Error {
  readonly code: AlignErrorCode;
  constructor(code: AlignErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AlignError';
    this.code = code;
  }
}
