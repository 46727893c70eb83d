import { describe, expect, it } from 'vitest';
import { codePointToUtf16Table, utf16Offsets } from './offsets.js';

describe('utf16Offsets', () => {
  it('maps code-point offsets past astral characters onto UTF-16 units', () => {
    const text = 'a😀b𝔘c';
    expect(codePointToUtf16Table('plain')).toBeUndefined();
    expect([...codePointToUtf16Table(text)!]).toEqual([0, 1, 3, 4, 6, 7]);
    expect([...utf16Offsets(text, [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]])]).toEqual([0, 1, 1, 3, 3, 4, 4, 6, 6, 7]);
  });

  it('gives a trailing combining mark left out of every span to the token before it', () => {
    const text = 'te\u0301 x';
    // What the binding reports for an NFC tokenizer: "té" spans only "te".
    expect([...utf16Offsets(text, [[0, 2], [3, 5]])]).toEqual([0, 3, 3, 5]);
    // A mark a later token already covers stays with it; empty spans stay empty.
    expect([...utf16Offsets(text, [[0, 2], [2, 3], [3, 3]])]).toEqual([0, 2, 2, 3, 3, 3]);
  });
});
