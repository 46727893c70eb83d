import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TeacherError } from './errors.js';
import { teacherDir } from './test-fixtures.js';
import { loadTokenizer } from './tokenizer.js';

const tokenizer = loadTokenizer(join(teacherDir, 'tokenizer.json'));

/** The text a token covers according to the vocabulary (▁ is the word marker, a space). */
function pieceText(token: string): string {
  return token.replaceAll('▁', ' ');
}

describe('teacher tokenizer', () => {
  it('finds the Llama special tokens and the full vocabulary', () => {
    expect(tokenizer.vocabSize).toBe(32000);
    expect(tokenizer.bosId).toBe(1);
    expect(tokenizer.eosId).toBe(2);
    expect(tokenizer.idToToken(1)).toBe('<s>');
    expect(tokenizer.idToToken(99999)).toBeUndefined();
  });

  it('encodes without special tokens, matching the ids of the teacher parity probe', async () => {
    const { ids } = await tokenizer.encode('The Congress of the United States shall');
    expect([...ids]).toEqual([415, 8463, 302, 272, 2969, 3543, 4579]);
    expect(await tokenizer.decode(Uint32Array.of(1, ...ids))).toBe('<s> The Congress of the United States shall');
  });

  it('gives offsets in UTF-16 code units past emoji and astral characters, and exact ones through CJK', async () => {
    const text = 'a😀b 中文字 x 😀😀 𝔘nicode end';
    const { ids, offsets } = await tokenizer.encode(text);
    expect(offsets.length).toBe(2 * ids.length);
    const pieces: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const start = offsets[2 * i];
      const end = offsets[2 * i + 1];
      expect(start).toBeLessThanOrEqual(end);
      expect(end).toBeLessThanOrEqual(text.length);
      // A span never cuts a surrogate pair in half.
      for (const edge of [start, end]) {
        const code = text.charCodeAt(edge);
        expect(edge < text.length && code >= 0xdc00 && code <= 0xdfff).toBe(false);
      }
      pieces.push(text.slice(start, end));
    }
    const tokens = [...ids].map((id) => tokenizer.idToToken(id)!);
    // Every piece that is not a byte-fallback byte spans exactly its own text.
    tokens.forEach((token, i) => {
      if (/^<0x[0-9A-F]{2}>$/.test(token)) expect(pieces[i]).toBe('𝔘');
      else if (i > 0) expect(pieces[i]).toBe(pieceText(token));
    });
    expect(pieces).toContain('😀');
    expect(pieces).toContain('中');
    const last = ids.length - 1;
    expect(text.slice(offsets[2 * last], offsets[2 * last + 1])).toBe(' end');
  });

  it('keeps offsets as they are in text without astral characters', async () => {
    const text = 'Grüße, 世界! ok';
    const { ids, offsets } = await tokenizer.encode(text);
    expect(offsets[2 * ids.length - 1]).toBe(text.length);
    for (let i = 1; i < ids.length; i++) {
      const token = tokenizer.idToToken(ids[i])!;
      if (!/^<0x[0-9A-F]{2}>$/.test(token)) expect(text.slice(offsets[2 * i], offsets[2 * i + 1])).toBe(pieceText(token));
    }
  });

  it('refuses a file that is not a tokenizer.json', () => {
    expect(() => loadTokenizer(join(teacherDir, 'config.json'))).toThrow(TeacherError);
    try {
      loadTokenizer(join(teacherDir, 'config.json'));
    } catch (error) {
      expect((error as TeacherError).code).toBe('E_TOKENIZER_FORMAT');
    }
  });
});
