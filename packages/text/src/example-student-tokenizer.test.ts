// The example student tokenizer (examples/student-tokenizer, made by tools/make-student-tokenizer.ts)
// must be a tokenizer.json that both the tokenizers library and transformers.js load, that
// round-trips text, and that is the byte-level BPE of 8,000 tokens the examples train on.
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { Tokenizer } from 'tokenizers';
import { describe, expect, it } from 'vitest';
import { tokenizerNamed, tokenizerPaths, trickyTexts } from './test-tokenizers.js';

const devCorpus = fileURLToPath(new URL('../../../../shared/corpus/dev.jsonl', import.meta.url));

/** Every text field of the first `count` dev records (the raw fields, without templates). */
async function devTexts(count: number): Promise<string[]> {
  const lines = (await readFile(devCorpus, 'utf8')).split('\n').filter((line) => line.trim() !== '');
  return lines.slice(0, count).flatMap((line) => {
    const record = JSON.parse(line) as Record<string, unknown>;
    return ['text', 'input', 'src', 'tgt'].map((field) => record[field]).filter((value): value is string => typeof value === 'string');
  });
}

describe('example student tokenizer', () => {
  it('is a byte-level BPE of 8,000 tokens whose merges build on earlier tokens', async () => {
    const json = JSON.parse(await readFile(tokenizerPaths.student, 'utf8'));
    const vocab = json.model.vocab as Record<string, number>;
    expect(json.model.type).toBe('BPE');
    expect(Object.keys(vocab)).toHaveLength(8000);
    expect(new Set(Object.values(vocab))).toEqual(new Set(Array.from({ length: 8000 }, (_, id) => id)));
    for (const [index, merge] of (json.model.merges as string[]).entries()) {
      const [left, right] = merge.split(' ');
      const merged = vocab[left + right];
      expect(merged, merge).toBeGreaterThan(Math.max(vocab[left], vocab[right]));
      expect(merged).toBeLessThanOrEqual(259 + index);
    }
    const student = await tokenizerNamed('student');
    expect(student.family).toBe('byte-level');
    expect(student.roles).toEqual({ bos: 0, eos: 1, pad: 2 });
  });

  it('round-trips corpus text and text in other scripts through the tokenizers library', async () => {
    const binding = Tokenizer.fromFile(tokenizerPaths.student);
    const texts = [...(await devTexts(300)), ...trickyTexts, '\u0000\u0007 control \r\n', ''];
    const encodings = await binding.encodeBatch(texts, { addSpecialTokens: false });
    const decoded = await binding.decodeBatch(encodings.map((encoding) => encoding.getIds()), false);
    decoded.forEach((text, index) => expect(text).toBe(texts[index]));
    // BOS is added the Llama way when special tokens are asked for.
    const withBos = await binding.encode('Hello', null, { addSpecialTokens: true });
    expect(withBos.getIds()[0]).toBe(0);
  });

  it('loads in transformers.js and tokenizes as the tokenizers library does', async () => {
    env.allowRemoteModels = false;
    env.localModelPath = `${dirname(dirname(tokenizerPaths.student))}/`;
    const tokenizer = await AutoTokenizer.from_pretrained('student-tokenizer');
    const binding = Tokenizer.fromFile(tokenizerPaths.student);
    for (const text of [...trickyTexts, ...(await devTexts(20))]) {
      const ids = tokenizer.encode(text);
      const reference = await binding.encode(text, null, { addSpecialTokens: true });
      expect(ids).toEqual(reference.getIds());
      expect(tokenizer.decode(ids, { skip_special_tokens: true })).toBe(text);
    }
    expect(tokenizer.eos_token).toBe('</s>');
    expect(tokenizer.pad_token).toBe('<pad>');
  });
});
