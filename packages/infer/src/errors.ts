// The one error class of @kd/infer: every failure carries a stable code and a message that says
// what was expected, what was found and what to do.

export type InferErrorCode =
  /** A model folder lacks a file it needs (the ONNX graph, tokenizer.json). */
  | 'E_MODEL_NOT_FOUND'
  /** A file in the folder cannot be read as what it claims to be (JSON, ONNX, templates). */
  | 'E_MODEL_FORMAT'
  /** The graph's inputs or outputs are not those of a causal LM that can be driven. */
  | 'E_MODEL_SIGNATURE'
  /** The tokenizer's ids do not index the model's logits. */
  | 'E_TOKENIZER_MISMATCH'
  /** onnxruntime failed while running the model. */
  | 'E_RUNTIME'
  /** An option is out of range or of the wrong type. */
  | 'E_OPTIONS'
  /** The prompt (or text to score) holds no tokens. */
  | 'E_EMPTY_PROMPT'
  /** The prompt does not fit the context and truncation is off. */
  | 'E_PROMPT_TOO_LONG'
  /** classify() got no labels, an empty label or the same label twice. */
  | 'E_LABELS'
  /** The caller's AbortSignal fired. */
  | 'E_ABORTED'
  /** The model was disposed. */
  | 'E_DISPOSED';

export class InferError extends Error {
  readonly code: InferErrorCode;
  constructor(code: InferErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InferError';
    this.code = code;
  }
}
