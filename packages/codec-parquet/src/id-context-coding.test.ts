import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { alphabetSize, canonicalCodes, decodePartIds, decodeTable, encodePartIds, limitedCodeLengths, maxCodeLength } from './id-context-coding.js';
import { unpackPadding } from './id-packing.js';
import { decodeRankingTable, encodeRankingTable } from './id-ranking-table.js';

interface Rows {
  tokenIds: number[];
  rows: number[][];
}

/** Codes rows (one per position) as a part does, stores and reads the ranking table, decodes. */
function roundTrip({ tokenIds, rows }: Rows, vocabSize: number): { decoded: number[][]; bytes: number } {
  const kept = Uint16Array.from(rows, (row) => row.length);
  const coded = encodePartIds(Uint32Array.from(rows.flat()), kept, Uint32Array.from(tokenIds), rows.length, vocabSize);
  const ranking = decodeRankingTable(encodeRankingTable(coded.rankedIds), 'test');
  expect(ranking).toEqual(coded.rankedIds);
  const data = new Uint8Array(coded.data.length + unpackPadding);
  data.set(coded.data);
  const out = new Uint32Array(kept.reduce((sum, count) => sum + count, 0));
  const table = decodeTable(coded.codeLengths, 'test');
  decodePartIds({ data, offsets: coded.offsets, kept, tokenId: Uint32Array.from(tokenIds) }, Int32Array.of(0, rows.length), table, ranking, vocabSize, out, 'test');
  const decoded: number[][] = [];
  let cursor = 0;
  for (const row of rows) {
    decoded.push(Array.from(out.subarray(cursor, cursor + row.length)));
    cursor += row.length;
  }
  return { decoded, bytes: coded.data.length };
}

/** Rows drawn from a small pool per input token, so references hit as on real teacher rows. */
const correlatedRows = fc.integer({ min: 100, max: 70_000 }).chain((vocabSize) =>
  fc.tuple(
    fc.constant(vocabSize),
    fc.array(
      fc.tuple(fc.integer({ min: 0, max: 5 }), fc.uniqueArray(fc.integer({ min: 0, max: 90 }), { maxLength: 80 }), fc.integer({ min: 0, max: vocabSize - 91 })),
      { minLength: 1, maxLength: 60 },
    ),
  ),
);

test('ids round trip bit-exactly: random rows, empty rows, rows longer than the 64 reference slots', () => {
  fc.assert(
    fc.property(correlatedRows, ([vocabSize, draws]) => {
      const rows: Rows = { tokenIds: draws.map(([token]) => token), rows: draws.map(([, ids, base]) => ids.map((id) => id + base)) };
      expect(roundTrip(rows, vocabSize).decoded).toEqual(rows.rows);
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 300_000 }).chain((vocabSize) =>
        fc.tuple(fc.constant(vocabSize), fc.array(fc.tuple(fc.integer({ min: 0, max: vocabSize - 1 }), fc.uniqueArray(fc.integer({ min: 0, max: vocabSize - 1 }), { maxLength: 40 })), { minLength: 1, maxLength: 30 })),
      ),
      ([vocabSize, draws]) => {
        const rows: Rows = { tokenIds: draws.map(([token]) => token), rows: draws.map(([, ids]) => ids) };
        expect(roundTrip(rows, vocabSize).decoded).toEqual(rows.rows);
      },
    ),
    { numRuns: 300 },
  );
});

/** Two documents of real teacher rows (teacher-llama-13m on dev.jsonl, adaptive p = 0.95). */
function realRows(): Rows[] {
  const values = new Uint16Array(readFileSync(new URL('../test-fixtures/real-rows.u16', import.meta.url)).buffer.slice(0));
  const documents: Rows[] = [];
  let at = 1;
  for (let d = 0; d < values[0]; d++) {
    const count = values[at++];
    const rows: Rows = { tokenIds: [], rows: [] };
    for (let t = 0; t < count; t++) {
      rows.tokenIds.push(values[at++]);
      const kept = values[at++];
      rows.rows.push(Array.from(values.subarray(at, at + kept)));
      at += kept;
    }
    documents.push(rows);
  }
  return documents;
}

test('real teacher rows round trip bit-exactly and take fewer bytes than 15-bit ids', () => {
  const documents = realRows();
  const joined: Rows = { tokenIds: documents.flatMap((document) => document.tokenIds), rows: documents.flatMap((document) => document.rows) };
  const entries = joined.rows.reduce((sum, row) => sum + row.length, 0);
  expect(entries).toBeGreaterThan(5000);
  const { decoded, bytes } = roundTrip(joined, 32_000);
  expect(decoded).toEqual(joined.rows);
  expect((8 * bytes) / entries).toBeLessThan(15);
});

test('code lengths stay within 15 bits and form a prefix code for skewed counts', () => {
  const counts = Array.from({ length: alphabetSize }, (_, symbol) => (symbol < 40 ? 2 ** Math.min(30, symbol) : 0));
  const lengths = limitedCodeLengths(counts);
  expect(Math.max(...lengths)).toBeLessThanOrEqual(maxCodeLength);
  expect(lengths.filter((length) => length > 0)).toHaveLength(40);
  expect(() => canonicalCodes(lengths, 'test')).not.toThrow();
  expect(limitedCodeLengths(Array.from({ length: alphabetSize }, (_, symbol) => (symbol === 7 ? 5 : 0)))[7]).toBe(1);
});

test('damaged ids are refused, never decoded into other ids', () => {
  const rows: Rows = { tokenIds: [1, 2, 1, 2], rows: [[5, 6, 7], [8, 9], [6, 5, 10], [9, 8, 11]] };
  const kept = Uint16Array.from(rows.rows, (row) => row.length);
  const coded = encodePartIds(Uint32Array.from(rows.rows.flat()), kept, Uint32Array.from(rows.tokenIds), 4, 100);
  const table = decodeTable(coded.codeLengths, 'test');
  const decode = (data: Uint8Array, tokenIds = rows.tokenIds, ranking = coded.rankedIds) => {
    const padded = new Uint8Array(data.length + unpackPadding);
    padded.set(data);
    decodePartIds({ data: padded, offsets: coded.offsets, kept, tokenId: Uint32Array.from(tokenIds) }, Int32Array.of(0, 4), table, ranking, 100, new Uint32Array(11), 'test');
  };
  expect(() => decode(coded.data)).not.toThrow();
  expect(() => decode(coded.data, [1, 2, 1, 200])).toThrow(/outside the vocabulary/);
  expect(() => decode(coded.data, rows.tokenIds, coded.rankedIds.subarray(0, 1))).toThrow(/escape rank/);
  // Over-subscribed code lengths are not a prefix code.
  expect(() => decodeTable(Array.from({ length: alphabetSize }, () => 1), 'test')).toThrow(/prefix code/);
  expect(() => decodeTable([1, 1], 'test')).toThrow(/89/);
  // A row cut short runs out of bits.
  const short = { ...coded, offsets: Int32Array.from(coded.offsets, (offset, i) => (i === 4 ? offset - 1 : offset)) };
  expect(() => {
    const padded = new Uint8Array(coded.data.length + unpackPadding);
    padded.set(coded.data);
    decodePartIds({ data: padded, offsets: short.offsets, kept, tokenId: Uint32Array.from(rows.tokenIds) }, Int32Array.of(0, 4), table, coded.rankedIds, 100, new Uint32Array(11), 'test');
  }).toThrow(/end early|no id code|reference index|escape rank/);
});

test('the ranking table refuses damaged text', () => {
  const text = encodeRankingTable(Uint32Array.of(3, 9, 10, 2, 31_999));
  expect(Array.from(decodeRankingTable(text, 'test'))).toEqual([3, 9, 10, 2, 31_999]);
  expect(() => decodeRankingTable(Buffer.concat([Buffer.from(text, 'base64'), Buffer.of(0)]).toString('base64'), 'test')).toThrow(/after its last run/);
  expect(() => decodeRankingTable('!!', 'test')).toThrow(/base64/);
  expect(() => decodeRankingTable(Buffer.from([1, 3, 0x80]).toString('base64'), 'test')).toThrow(/ends inside/);
});
