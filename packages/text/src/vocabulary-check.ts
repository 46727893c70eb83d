// Where a model and a tokenizer meet (teacher load, export, training resume), the tokenizer's
// ids must index the model's logits: a larger tokenizer labels nonsense or crashes the runtime
// later, so it is refused before any work.
import { TextError } from './errors.js';

export interface VocabularyFitContext {
  /** What the model is, for the message (a path or a name). */
  model?: string;
}

/**
 * Throws E_VOCAB_MISMATCH when `tokenizer` has ids at or beyond `logitsWidth` (the model's
 * vocabulary size). A model wider than its tokenizer (padded embeddings) is accepted.
 */
export function assertTokenizerFits(tokenizer: { path: string; vocabSize: number }, logitsWidth: number, context: VocabularyFitContext = {}): void {
  if (!Number.isInteger(logitsWidth) || logitsWidth <= 0) {
    throw new TextError('E_OPTIONS', `the model's vocabulary size must be a positive integer, got ${logitsWidth}`);
  }
  if (tokenizer.vocabSize <= logitsWidth) return;
  const model = context.model ? `the model ${context.model}` : 'the model';
  throw new TextError(
    'E_VOCAB_MISMATCH',
    `the tokenizer ${tokenizer.path} has ids up to ${tokenizer.vocabSize - 1} (vocabulary size ${tokenizer.vocabSize}) but ${model} has ${logitsWidth} logits per position; use the tokenizer the model was trained with`,
  );
}
