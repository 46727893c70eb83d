// The shared suite every tokenizer runs (like unstorage's testDriver): roles, framing, UTF-16
// offsets on emoji, CJK and combining marks, vocabulary size, round trip. Test-only.
import { describe, expect, it } from 'vitest';
import type { Tokenizer } from './tokenizer.js';
import { trickyTexts, type TokenizerExpectation } from './test-tokenizers.js';

const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;
const lossy = new TextDecoder('utf-8');

export function testTokenizer(name: string, load: () => Promise<Tokenizer>, expected: TokenizerExpectation): void {
  describe(`tokenizer suite: ${name}`, () => {
    it('resolves the document roles to special tokens', async () => {
      const tokenizer = await load();
      expect({ ...tokenizer.roles }).toEqual(expected.roles);
      for (const id of Object.values(tokenizer.roles)) expect(tokenizer.isSpecial(id)).toBe(true);
      expect(tokenizer.family).toBe(expected.family);
    });

    it('has a vocabulary size of the largest id + 1, added tokens included', async () => {
      const tokenizer = await load();
      expect(tokenizer.vocabSize).toBe(expected.vocabSize);
      expect(tokenizer.token(tokenizer.vocabSize - 1)).toBeDefined();
      expect(tokenizer.token(tokenizer.vocabSize)).toBeUndefined();
      expect(tokenizer.tokenBytes(tokenizer.vocabSize).length).toBe(0);
      for (const text of trickyTexts) {
        for (const id of (await tokenizer.encode(text)).ids) expect(id).toBeLessThan(tokenizer.vocabSize);
      }
    });

    it('frames a document with BOS and EOS on empty spans, or without either', async () => {
      const tokenizer = await load();
      const text = 'The Congress of the United States shall';
      const plain = await tokenizer.encode(text);
      const { bos, eos } = tokenizer.roles;
      const both = await tokenizer.frame(text);
      const expectedIds = [...(bos === undefined ? [] : [bos]), ...plain.ids, ...(eos === undefined ? [] : [eos])];
      expect([...both.ids]).toEqual(expectedIds);
      expect(both.offsets.length).toBe(2 * both.ids.length);
      if (bos !== undefined) expect([both.offsets[0], both.offsets[1]]).toEqual([0, 0]);
      if (eos !== undefined) expect([...both.offsets.subarray(-2)]).toEqual([text.length, text.length]);
      const inner = both.offsets.subarray(bos === undefined ? 0 : 2, eos === undefined ? undefined : -2);
      expect([...inner]).toEqual([...plain.offsets]);
      const none = await tokenizer.frame(text, { bos: false, eos: false });
      expect([...none.ids]).toEqual([...plain.ids]);
      expect([...none.offsets]).toEqual([...plain.offsets]);
      expect([...(await tokenizer.frame(text, { eos: false })).ids]).toEqual(expectedIds.slice(0, eos === undefined ? undefined : -1));
      const [batched] = await tokenizer.frameBatch([text]);
      expect([...batched.ids]).toEqual([...both.ids]);
      expect([...batched.offsets]).toEqual([...both.offsets]);
      // Only special tokens mark boundaries: no framed id outside the text's own is plain text.
      for (const id of both.ids.subarray(0, bos === undefined ? 0 : 1)) expect(tokenizer.isSpecial(id)).toBe(true);
      for (const id of eos === undefined ? [] : [both.ids[both.ids.length - 1]]) expect(tokenizer.isSpecial(id)).toBe(true);
    });

    it('encodes without special tokens even where the text spells one', async () => {
      const tokenizer = await load();
      const { ids } = await tokenizer.encode('plain words only');
      for (const id of ids) expect(tokenizer.isSpecial(id)).toBe(false);
    });

    it('gives UTF-16 offsets that stay in the text, never cut a surrogate pair and cover every character', async () => {
      const tokenizer = await load();
      for (const text of trickyTexts) {
        const { ids, offsets } = await tokenizer.encode(text);
        expect(offsets.length).toBe(2 * ids.length);
        const covered = new Uint8Array(text.length);
        let previousStart = 0;
        for (let i = 0; i < ids.length; i++) {
          const start = offsets[2 * i];
          const end = offsets[2 * i + 1];
          expect(start).toBeLessThanOrEqual(end);
          expect(end).toBeLessThanOrEqual(text.length);
          expect(start).toBeGreaterThanOrEqual(previousStart);
          previousStart = start;
          for (const edge of [start, end]) expect(edge < text.length && isLowSurrogate(text.charCodeAt(edge))).toBe(false);
          covered.fill(1, start, end);
        }
        for (let unit = 0; unit < text.length; unit++) {
          if (/\s/.test(text[unit])) continue; // a tokenizer may fold whitespace into a neighbour's span
          expect(covered[unit], `${JSON.stringify(text)}: code unit ${unit} (${JSON.stringify(text[unit])}) in no span`).toBe(1);
        }
        // A token whose bytes are whole characters spans exactly those characters (spaces aside).
        for (let i = 0; i < ids.length; i++) {
          const bytes = tokenizer.tokenBytes(ids[i]);
          const decoded = lossy.decode(bytes);
          if (decoded.includes('\uFFFD') || decoded.trim() === '') continue;
          const slice = text.slice(offsets[2 * i], offsets[2 * i + 1]);
          if (expected.roundTrip(slice) === slice) expect(slice.trim()).toBe(decoded.trim());
        }
      }
    });

    it('round-trips text through encode and decode, and token bytes add up to the text', async () => {
      const tokenizer = await load();
      for (const text of trickyTexts) {
        const { ids } = await tokenizer.encode(text);
        expect(await tokenizer.decode(ids)).toBe(expected.roundTrip(text));
        const joined = Buffer.concat([...ids].map((id) => tokenizer.tokenBytes(id))).toString('utf8');
        // SentencePiece's normalizer puts a word marker before the first word.
        expect(joined.replace(/^ /, '')).toBe(expected.roundTrip(text).replace(/^ /, ''));
      }
    });

    it('decodes markers as text or drops them with skipSpecialTokens', async () => {
      const tokenizer = await load();
      const text = 'Hello world';
      const framed = await tokenizer.frame(text);
      expect(await tokenizer.decode(framed.ids, { skipSpecialTokens: true })).toBe(text);
      const withMarkers = await tokenizer.decode(framed.ids);
      if (tokenizer.roles.eos !== undefined) expect(withMarkers.endsWith(tokenizer.token(tokenizer.roles.eos)!)).toBe(true);
    });

    it('looks tokens up both ways', async () => {
      const tokenizer = await load();
      for (const id of Object.values(tokenizer.roles)) expect(tokenizer.idOfToken(tokenizer.token(id)!)).toBe(id);
      expect(tokenizer.idOfToken('\u0000no such token\u0000')).toBeUndefined();
      expect(tokenizer.sha256).toMatch(/^[0-9a-f]{64}$/);
    });
  });
}
