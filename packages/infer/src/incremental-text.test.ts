import { loadTokenizer, type Tokenizer } from '@kd/text';
import { beforeAll, describe, expect, it } from 'vitest';
import { continuationText, IncrementalText } from './incremental-text.js';
import { StopMatcher } from './stop-sequences.js';
import { teacherDir } from './test-fixtures.js';

let tokenizer: Tokenizer;
beforeAll(async () => {
  tokenizer = await loadTokenizer(teacherDir);
});

function isWellFormed(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) return false;
  }
  return true;
}

describe('IncrementalText', () => {
  // 🍣, 🦀, 鰻, 丼 and 𝔘 are not in the vocabulary: they come out as byte-fallback pieces.
  const samples = ['Grüße aus Köln 🙂👍🏽🍣 und 世界你好，鰻丼 こんにちは!', 'naïve café — “quotes” 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ok', '  two leading spaces 🦀\nand lines\n\n'];

  it.each(samples)('hands out whole characters that add up to the text: %s', async (sample) => {
    const prompt = await tokenizer.frame('Say:', { eos: false });
    const { ids } = await tokenizer.encode(sample);
    expect(Array.from(ids).some((id) => /^<0x[0-9A-F]{2}>$/.test(tokenizer.token(id) ?? ''))).toBe(true);
    const text = new IncrementalText(tokenizer, prompt.ids);
    const pieces: string[] = [];
    for (const id of ids) pieces.push(await text.push(id));
    pieces.push(await text.finish());
    for (const piece of pieces) {
      expect(piece).not.toContain('\uFFFD');
      expect(isWellFormed(piece)).toBe(true);
    }
    const joined = pieces.join('');
    expect(joined).toBe(await continuationText(tokenizer, prompt.ids, ids));
    expect(joined.trimStart()).toBe(sample.trimStart());
  });
});

describe('StopMatcher', () => {
  it('cuts at the first stop sequence, even across pieces, and never hands out its text', () => {
    const matcher = new StopMatcher(['\n\n', 'END']);
    const out = ['Hello', ' wor', 'ld E', 'N', 'D more'].map((piece) => matcher.push(piece));
    expect(out.join('')).toBe('Hello world ');
    expect(out[2]).toBe('ld ');
    expect(matcher.stopped).toBe(true);
    expect(matcher.finish()).toBe('');
  });

  it('hands out a held tail that never became a stop sequence', () => {
    const matcher = new StopMatcher(['END']);
    expect(matcher.push('the EN')).toBe('the ');
    expect(matcher.push('D')).toBe('');
    const other = new StopMatcher(['END']);
    expect(other.push('the EN') + other.push('ding') + other.finish()).toBe('the ENding');
    expect(other.stopped).toBe(false);
  });
});
