// Where a model and a tokenizer meet (teacher load, export, training resume), the tokenizer must
// be the model's: ids beyond the logits crash the runtime or index garbage, and a model far
// wider than the tokenizer (a 32k teacher read with an 8k student tokenizer) labels nonsense
// that looks complete. Both are refused before any work.
import { TextError } from './errors.js';

/**
 * Models often pad their embedding past the tokenizer to a round size (Qwen3: 151669 tokens,
 * 151936 logits; Phi-3: 32011 and 32064). Padding beyond this many unused logits means the
 * tokenizer belongs to another model.
 */
export const defaultMaxVocabPadding = 1024;

export interface VocabularyFitContext {
  /** What the model is, for the message (a path or a name). */
  model?: string;
  /** Logits beyond the tokenizer's largest id that are still accepted as padding (default 1024). */
  maxPadding?: number;
}

/**
 * Throws E_VOCAB_MISMATCH when `tokenizer` has ids at or beyond `logitsWidth` (the model's
 * vocabulary size), or when the model has more than `maxPadding` logits no token of the
 * tokenizer reaches.
 */
export function assertTokenizerFits(tokenizer: { path: string; vocabSize: number }, logitsWidth: number, context: VocabularyFitContext = {}): void {
  if (!Number.isInteger(logitsWidth) || logitsWidth <= 0) {
    throw new TextError('E_OPTIONS', `the model's vocabulary size must be a positive integer, got ${logitsWidth}`);
  }
  const maxPadding = context.maxPadding ?? defaultMaxVocabPadding;
  if (!Number.isInteger(maxPadding) || maxPadding < 0) throw new TextError('E_OPTIONS', `maxPadding must be a non-negative integer, got ${maxPadding}`);
  const model = context.model ? `the model ${context.model}` : 'the model';
  if (tokenizer.vocabSize > logitsWidth) {
    throw new TextError(
      'E_VOCAB_MISMATCH',
      `the tokenizer ${tokenizer.path} has ids up to ${tokenizer.vocabSize - 1} (vocabulary size ${tokenizer.vocabSize}) but ${model} has ${logitsWidth} logits per position; use the tokenizer the model was trained with`,
    );
  }
  if (logitsWidth - tokenizer.vocabSize > maxPadding) {
    throw new TextError(
      'E_VOCAB_MISMATCH',
      `${model} has ${logitsWidth} logits per position but the tokenizer ${tokenizer.path} has a vocabulary of ${tokenizer.vocabSize}: ${logitsWidth - tokenizer.vocabSize} logits no token reaches (more than the ${maxPadding} accepted as padding); use the tokenizer the model was trained with`,
    );
  }
}
