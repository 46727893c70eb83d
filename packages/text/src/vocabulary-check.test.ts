import { describe, expect, it } from 'vitest';
import { TextError } from './errors.js';
import { tokenizerNamed } from './test-tokenizers.js';
import { assertTokenizerFits } from './vocabulary-check.js';

describe('assertTokenizerFits', () => {
  it('accepts a tokenizer whose ids index the logits, padded model vocabularies included', async () => {
    const student = await tokenizerNamed('student');
    expect(() => assertTokenizerFits(student, 8000)).not.toThrow();
    expect(() => assertTokenizerFits(student, 8064)).not.toThrow();
    expect(() => assertTokenizerFits({ path: 'qwen3', vocabSize: 151669 }, 151936)).not.toThrow();
  });

  it('refuses a model far wider than the tokenizer (another model\'s tokenizer) unless told the padding is wanted', async () => {
    const student = await tokenizerNamed('student');
    expect(() => assertTokenizerFits(student, 32000, { model: 'teacher' })).toThrow(/24000 logits no token reaches/);
    expect(() => assertTokenizerFits(student, 32000, { maxPadding: 24000 })).not.toThrow();
    expect(() => assertTokenizerFits(student, 8000 + 1025)).toThrow(TextError);
  });

  it('refuses a tokenizer with ids beyond the logits with E_VOCAB_MISMATCH, naming both sizes', async () => {
    const teacher = await tokenizerNamed('teacher');
    let caught: unknown;
    try {
      assertTokenizerFits(teacher, 8000, { model: 'student.onnx' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TextError);
    expect((caught as TextError).code).toBe('E_VOCAB_MISMATCH');
    expect((caught as TextError).message).toContain('32000');
    expect((caught as TextError).message).toContain('8000');
    expect((caught as TextError).message).toContain('student.onnx');
    // GPT-4o's added tokens reach id 200018: 200000 logits are too few.
    expect(() => assertTokenizerFits({ path: 'gpt4o', vocabSize: 200019 }, 200000)).toThrow(/200019/);
  });

  it('refuses a width that is not a positive integer', () => {
    expect(() => assertTokenizerFits({ path: 'x', vocabSize: 1 }, 0)).toThrow(TextError);
    expect(() => assertTokenizerFits({ path: 'x', vocabSize: 1 }, 1, { maxPadding: -1 })).toThrow(TextError);
  });
});
