import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { byteLevelAlphabet, Tokenizer as Binding } from 'tokenizers';
import { describe, expect, it } from 'vitest';
import { byteLevelToBytes, bytesToByteLevel } from './byte-level.js';
import { loadTokenizer, type Tokenizer } from './tokenizer.js';
import { tokenizerNamed, trickyTexts, type TokenizerName } from './test-tokenizers.js';

const lossy = new TextDecoder('utf-8', { ignoreBOM: true });
const utf8 = new TextEncoder();

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * Decodes every token after an ASCII anchor token with the tokenizer's own decoder and compares
 * with the normalized bytes (decoded the same way: invalid UTF-8 becomes U+FFFD in both).
 * The anchor keeps decoders that strip a leading space from the whole text honest.
 */
async function roundTripMismatches(tokenizer: Tokenizer, anchorToken: string, options: { skipSpecial?: boolean } = {}): Promise<string[]> {
  const binding = Binding.fromFile(tokenizer.path);
  const anchor = tokenizer.idOfToken(anchorToken)!;
  expect(anchor).toBeDefined();
  const anchorDecoded = await binding.decode([anchor], false);
  const anchorBytes = tokenizer.tokenBytes(anchor);
  const anchorText = lossy.decode(anchorBytes);
  const ids: number[] = [];
  for (let id = 0; id < tokenizer.vocabSize; id++) {
    if (tokenizer.token(id) !== undefined && !(options.skipSpecial && tokenizer.isSpecial(id))) ids.push(id);
  }
  const mismatches: string[] = [];
  for (let start = 0; start < ids.length; start += 8192) {
    const chunk = ids.slice(start, start + 8192);
    const decoded = await binding.decodeBatch(chunk.map((id) => [anchor, id]), false);
    chunk.forEach((id, index) => {
      const actual = decoded[index].slice(anchorDecoded.length);
      const expected = lossy.decode(concat([anchorBytes, tokenizer.tokenBytes(id)])).slice(anchorText.length);
      if (actual !== expected) mismatches.push(`${id} ${JSON.stringify(tokenizer.token(id))}: decoded ${JSON.stringify(actual)}, normalized ${JSON.stringify(expected)}`);
    });
  }
  return mismatches;
}

const anchors: Record<TokenizerName, string> = { llama2: '▁a', teacher: '▁a', qwen3: 'a', gpt4o: 'a', student: 'a' };

describe('byte-normalized round trip of every token', () => {
  for (const name of ['llama2', 'teacher', 'qwen3', 'gpt4o', 'student'] as const) {
    it(`${name}: decode(token) equals its normalized bytes`, async () => {
      const tokenizer = await tokenizerNamed(name);
      expect(await roundTripMismatches(tokenizer, anchors[name])).toEqual([]);
    });
  }

  it('reads each family from tokenizer.json', async () => {
    expect((await tokenizerNamed('llama2')).family).toBe('sentencepiece');
    expect((await tokenizerNamed('teacher')).family).toBe('sentencepiece');
    expect((await tokenizerNamed('qwen3')).family).toBe('byte-level');
    expect((await tokenizerNamed('gpt4o')).family).toBe('byte-level');
    expect((await tokenizerNamed('student')).family).toBe('byte-level');
  });

  it('turns byte-fallback, word-marker and byte-level pieces into their bytes', async () => {
    const llama = await tokenizerNamed('llama2');
    expect(Array.from(llama.tokenBytes(llama.idOfToken('<0xE2>')!))).toEqual([0xe2]);
    expect(Array.from(llama.tokenBytes(llama.idOfToken('<0x0A>')!))).toEqual([0x0a]);
    expect(lossy.decode(llama.tokenBytes(llama.idOfToken('▁the')!))).toBe(' the');
    expect(lossy.decode(llama.tokenBytes(llama.idOfToken('▁▁▁▁')!))).toBe('    ');
    const qwen = await tokenizerNamed('qwen3');
    expect(lossy.decode(qwen.tokenBytes(qwen.idOfToken('Ġthe')!))).toBe(' the');
    // "中" is three bytes; Qwen spells them ä¸Ń, and a lone lead byte is a piece of a character.
    expect(Array.from(qwen.tokenBytes(qwen.idOfToken('ä¸Ń')!))).toEqual([0xe4, 0xb8, 0xad]);
    expect(Array.from(qwen.tokenBytes(qwen.idOfToken('ä')!))).toEqual([0xe4]);
    expect(lossy.decode(qwen.tokenBytes(qwen.idOfToken('<|im_end|>')!))).toBe('<|im_end|>');
    expect(qwen.isSpecial(qwen.idOfToken('<|im_end|>')!)).toBe(true);
    expect(qwen.isSpecial(qwen.idOfToken('<think>')!)).toBe(false);
  });
});

describe('token bytes compose the text', () => {
  // What the tokens stand for once the tokenizer's normalizer ran: Llama-2 prepends a word
  // marker (a space), Qwen normalizes to NFC, the others leave text as it is.
  const asTokenized: Record<TokenizerName, (text: string) => string> = {
    llama2: (text) => ` ${text}`,
    teacher: (text) => ` ${text}`,
    qwen3: (text) => text.normalize('NFC'),
    gpt4o: (text) => text,
    student: (text) => text,
  };

  for (const name of ['llama2', 'qwen3', 'gpt4o', 'student'] as const) {
    it(`${name}: concatenated token bytes are the UTF-8 of accented, emoji, CJK, code and spaced text`, async () => {
      const tokenizer = await tokenizerNamed(name);
      for (const text of trickyTexts) {
        const { ids } = await tokenizer.encode(text);
        const bytes = concat(Array.from(ids, (id) => tokenizer.tokenBytes(id)));
        expect(Buffer.from(bytes).equals(Buffer.from(utf8.encode(asTokenized[name](text)))), text).toBe(true);
      }
    });
  }

  it('llama2 spells characters outside its vocabulary with byte-fallback pieces that compose them', async () => {
    const llama = await tokenizerNamed('llama2');
    const { ids } = await llama.encode('🦜 𝔘');
    const tokens = Array.from(ids, (id) => llama.token(id)!);
    expect(tokens.filter((token) => /^<0x[0-9A-F]{2}>$/.test(token)).length).toBeGreaterThanOrEqual(4);
    expect(lossy.decode(concat(Array.from(ids, (id) => llama.tokenBytes(id))))).toBe(' 🦜 𝔘');
  });

  for (const name of ['llama2', 'gpt4o', 'student'] as const) {
    it(`${name}: composes any well-formed text (property)`, async () => {
      const tokenizer = await tokenizerNamed(name);
      await fc.assert(
        // The word marker itself (U+2581) stands for a space in SentencePiece vocabularies: text that spells it is left out.
        fc.asyncProperty(fc.string({ unit: 'grapheme', maxLength: 40 }).filter((text) => !text.includes('▁')), async (text) => {
          const { ids } = await tokenizer.encode(text);
          const bytes = concat(Array.from(ids, (id) => tokenizer.tokenBytes(id)));
          const expected = text.length === 0 ? '' : asTokenized[name](text);
          return Buffer.from(bytes).equals(Buffer.from(utf8.encode(expected)));
        }),
        { numRuns: 150 },
      );
    });
  }
});

describe('byte-level alphabet', () => {
  it('is the alphabet of the tokenizers library', () => {
    const ours = Array.from({ length: 256 }, (_, byte) => bytesToByteLevel(Uint8Array.of(byte)));
    expect(new Set(ours)).toEqual(new Set(byteLevelAlphabet()));
    expect(bytesToByteLevel(utf8.encode(' '))).toBe('Ġ');
    expect(bytesToByteLevel(utf8.encode('\n'))).toBe('Ċ');
  });

  it('round-trips any bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const back = byteLevelToBytes(bytesToByteLevel(bytes));
        return back !== undefined && Buffer.from(back).equals(Buffer.from(bytes));
      }),
    );
    expect(byteLevelToBytes('a b')).toBeUndefined();
  });
});

describe('WordPiece', () => {
  it('strips the continuation prefix and gives word-initial pieces their space', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kd-wordpiece-'));
    const path = join(dir, 'tokenizer.json');
    const vocab = { '[UNK]': 0, '[CLS]': 1, '[SEP]': 2, play: 3, '##ing': 4, '##ed': 5, the: 6, game: 7, ga: 8, '##me': 9 };
    await writeFile(
      path,
      JSON.stringify({
        version: '1.0',
        truncation: null,
        padding: null,
        added_tokens: ['[UNK]', '[CLS]', '[SEP]'].map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
        normalizer: null,
        pre_tokenizer: { type: 'BertPreTokenizer' },
        post_processor: null,
        decoder: { type: 'WordPiece', prefix: '##', cleanup: false },
        model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
      }),
    );
    const tokenizer = await loadTokenizer(path);
    expect(tokenizer.family).toBe('wordpiece');
    expect(tokenizer.roles).toEqual({ bos: 1, eos: 2, unk: 0 });
    expect(lossy.decode(tokenizer.tokenBytes(3))).toBe(' play');
    expect(lossy.decode(tokenizer.tokenBytes(4))).toBe('ing');
    const { ids } = await tokenizer.encode('the playing game');
    expect(lossy.decode(concat(Array.from(ids, (id) => tokenizer.tokenBytes(id))))).toBe(' the playing game');
    // Its decoder puts a space before every word-initial token, special ones included: only text tokens compare.
    expect(await roundTripMismatches(tokenizer, 'the', { skipSpecial: true })).toEqual([]);
  });
});

describe('Metaspace SentencePiece', () => {
  it('reads the marker from the pre-tokenizer, and encodes fragments without the marker it prepends', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kd-metaspace-'));
    const path = join(dir, 'tokenizer.json');
    const vocab = { '<unk>': 0, '▁': 1, t: 2, h: 3, e: 4, '▁t': 5, '▁th': 6, '▁the': 7, th: 8, the: 9, '<0x41>': 10 };
    await writeFile(
      path,
      JSON.stringify({
        version: '1.0',
        truncation: null,
        padding: null,
        added_tokens: [{ id: 0, content: '<unk>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
        normalizer: null,
        pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
        post_processor: null,
        decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
        model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, vocab, merges: ['▁ t', '▁t h', '▁th e', 't h', 'th e'] },
      }),
    );
    const student = await loadTokenizer(path);
    expect(student.family).toBe('sentencepiece');
    expect(student.roles).toEqual({ unk: 0 });
    expect(lossy.decode(student.tokenBytes(7))).toBe(' the');
    expect(Array.from(student.tokenBytes(10))).toEqual([0x41]);
    expect(Array.from((await student.encode('the')).ids)).toEqual([7]); // the tokenizer itself prepends ▁

    // Mapping asks which token begins a text as it stands: without the marker it prepends.
    expect(Array.from((await student.encodeFragments(['the']))[0])).toEqual([9]);
  });
});
