// The one error class of @kd/text: every failure carries a stable code and a message that says
// what was expected, what was found and what to do.

export type TextErrorCode =
  | 'E_TOKENIZER_NOT_FOUND'
  | 'E_TOKENIZER_FORMAT'
  | 'E_CORPUS_NOT_FOUND'
  | 'E_CORPUS_FORMAT'
  /** A corpus file is not UTF-8 text (invalid sequences, NUL bytes of a binary file). */
  | 'E_CORPUS_ENCODING'
  /** The corpus, or what the task filter leaves of it, holds no documents. */
  | 'E_CORPUS_EMPTY'
  | 'E_TEMPLATE'
  | 'E_VOCAB_MISMATCH'
  | 'E_OPTIONS';

export class TextError extends Error {
  readonly code: TextErrorCode;
  constructor(code: TextErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TextError';
    this.code = code;
  }
}
