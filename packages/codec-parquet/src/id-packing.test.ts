import fc from 'fast-check';
import { expect, test } from 'vitest';
import { CodecError } from './errors.js';
import { BitSink, packIds, rankIds, unpackIdRows, unpackIds, unpackPadding } from './id-packing.js';

/** Packs rows (each a list of distinct ids) as a part would and returns the decoded rows. */
function roundTrip(rows: number[][], vocabSize: number): number[][] {
  const all = Uint32Array.from(rows.flat());
  const ranking = rankIds(all, vocabSize);
  const sink = new BitSink(16);
  const offsets = [0];
  const scratch = new Uint32Array(Math.max(1, ...rows.map((row) => row.length)));
  let cursor = 0;
  for (const row of rows) {
    packIds(all, cursor, row.length, ranking, sink, scratch);
    cursor += row.length;
    offsets.push(sink.length);
  }
  const bytes = new Uint8Array(sink.length + unpackPadding);
  bytes.set(sink.bytes.subarray(0, sink.length));
  return rows.map((row, r) => {
    const out = new Uint32Array(row.length);
    unpackIds(bytes, offsets[r], offsets[r + 1], row.length, ranking.rankedIds, out, 0);
    return Array.from(out);
  });
}

const vocabAndRows = fc.integer({ min: 2, max: 262_144 }).chain((vocabSize) =>
  fc.tuple(
    fc.constant(vocabSize),
    fc.array(fc.uniqueArray(fc.integer({ min: 0, max: vocabSize - 1 }), { minLength: 0, maxLength: 64 }), { minLength: 1, maxLength: 40 }),
  ),
);

test('ids round trip bit-exactly for random rows and vocabularies up to 262144', () => {
  fc.assert(
    fc.property(vocabAndRows, ([vocabSize, rows]) => {
      expect(roundTrip(rows, vocabSize)).toEqual(rows);
    }),
    { numRuns: 300 },
  );
});

test('rows mixing one rare id with many frequent ones (long unary runs) round trip', () => {
  const frequent = Array.from({ length: 40 }, (_, i) => i);
  const rows = [...Array.from({ length: 50 }, () => frequent), [...frequent.slice(0, 39), 262_143], [262_143, 0]];
  expect(roundTrip(rows, 262_144)).toEqual(rows);
});

test('frequent ids take fewer bits than fixed width', () => {
  // Zipf-like rows: ids drawn mostly from a small frequent set of a 32k vocabulary.
  const rows = Array.from({ length: 500 }, (_, r) => Array.from({ length: 32 }, (_, i) => (i * 7 + r) % 64 === 0 ? 20_000 + r : (i * 37 + r * 11) % 300).filter((id, i, all) => all.indexOf(id) === i));
  const all = Uint32Array.from(rows.flat());
  const ranking = rankIds(all, 32_000);
  const sink = new BitSink();
  const scratch = new Uint32Array(64);
  let cursor = 0;
  for (const row of rows) {
    packIds(all, cursor, row.length, ranking, sink, scratch);
    cursor += row.length;
  }
  expect((sink.length * 8) / all.length).toBeLessThan(15);
});

test('a truncated row is reported as a damaged part, not decoded as garbage', () => {
  const ids = Uint32Array.from([5, 900, 3, 17]);
  const ranking = rankIds(ids, 1000);
  const sink = new BitSink();
  packIds(ids, 0, ids.length, ranking, sink, new Uint32Array(4));
  const bytes = new Uint8Array(sink.length + unpackPadding);
  bytes.set(sink.bytes.subarray(0, sink.length));
  const out = new Uint32Array(8);
  expect(() => unpackIds(bytes, 0, 1, 4, ranking.rankedIds, out, 0)).toThrow(CodecError);
  expect(() => unpackIds(bytes, 0, sink.length, 8, ranking.rankedIds, out, 0)).toThrow(CodecError);
});

test('ids outside the vocabulary are refused', () => {
  expect(() => rankIds(Uint32Array.from([1, 10]), 10)).toThrow(/outside the vocabulary/);
});

/** The README's `rank-rice` layout read bit by bit: an oracle independent of the word-wise decoder. */
function referenceUnpack(bytes: Uint8Array, byteStart: number, count: number, rankedIds: Uint32Array): number[] {
  let bit = byteStart * 8;
  const next = () => (bytes[bit >>> 3] >>> (7 - (bit++ & 7))) & 1;
  let b = 0;
  for (let i = 0; i < 5; i++) b = (b << 1) | next();
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    let quotient = 0;
    while (next() === 1) quotient++;
    let low = 0;
    for (let j = 0; j < b; j++) low = low * 2 + next();
    ids.push(rankedIds[quotient * 2 ** b + low]);
  }
  return ids;
}

/** Packs rows as a part would: the packed bytes (padded), row offsets, kept counts and ranking. */
function packRows(rows: number[][], vocabSize: number) {
  const all = Uint32Array.from(rows.flat());
  const ranking = rankIds(all, vocabSize);
  const sink = new BitSink(16);
  const offsets = new Int32Array(rows.length + 1);
  const scratch = new Uint32Array(Math.max(1, ...rows.map((row) => row.length)));
  let cursor = 0;
  rows.forEach((row, r) => {
    packIds(all, cursor, row.length, ranking, sink, scratch);
    cursor += row.length;
    offsets[r + 1] = sink.length;
  });
  const bytes = new Uint8Array(sink.length + unpackPadding);
  bytes.set(sink.bytes.subarray(0, sink.length));
  return { bytes, offsets, kept: Uint16Array.from(rows.map((row) => row.length)), ranking, all };
}

// Rows skewed towards a few frequent ids with rare outliers: small Rice parameters next to ranks
// far above them, so both the one-window path and the long-code path are exercised.
const skewedRows = fc.integer({ min: 2, max: 262_144 }).chain((vocabSize) =>
  fc.tuple(
    fc.constant(vocabSize),
    fc.array(
      fc.uniqueArray(
        fc.oneof(
          { weight: 6, arbitrary: fc.integer({ min: 0, max: Math.min(vocabSize - 1, 40) }) },
          { weight: 1, arbitrary: fc.integer({ min: 0, max: vocabSize - 1 }) },
        ),
        { minLength: 0, maxLength: 64 },
      ),
      { minLength: 1, maxLength: 60 },
    ),
  ),
);

test('the word-wise decoder agrees with a bit-by-bit reading of the documented layout, row by row and a document at a time', () => {
  fc.assert(
    fc.property(skewedRows, ([vocabSize, rows]) => {
      const { bytes, offsets, kept, ranking, all } = packRows(rows, vocabSize);
      const oracle = rows.flatMap((row, r) => referenceUnpack(bytes, offsets[r], row.length, ranking.rankedIds));
      expect(oracle).toEqual(Array.from(all));
      const single = new Uint32Array(all.length);
      let cursor = 0;
      rows.forEach((row, r) => {
        unpackIds(bytes, offsets[r], offsets[r + 1], row.length, ranking.rankedIds, single, cursor);
        cursor += row.length;
      });
      expect(Array.from(single)).toEqual(oracle);
      // A document that starts part-way into the column decodes to its own rows only.
      const first = Math.floor(rows.length / 3);
      const skipped = rows.slice(0, first).reduce((sum, row) => sum + row.length, 0);
      const document = new Uint32Array(all.length - skipped);
      unpackIdRows(bytes, offsets, kept, first, rows.length - first, ranking.rankedIds, document, 0);
      expect(Array.from(document)).toEqual(oracle.slice(skipped));
    }),
    { numRuns: 300 },
  );
});

test('a Rice parameter the writer never uses is reported as a damaged part', () => {
  const ranking = rankIds(Uint32Array.from([1, 2]), 10);
  // 5 bits of 31 (11111), then ids: no writer emits b > 24.
  const bytes = Uint8Array.from([0xf8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  expect(() => unpackIds(bytes, 0, 4, 1, ranking.rankedIds, new Uint32Array(1), 0)).toThrow(expect.objectContaining({ code: 'E_PART_FORMAT', message: expect.stringMatching(/Rice parameter 31/) }));
});

test('a rank outside the ranking is reported as a damaged part', () => {
  const ranking = rankIds(Uint32Array.from([4]), 10);
  // b = 0, then unary 1 1 0: rank 2 of a one-id ranking.
  const bytes = Uint8Array.from([0b00000110, 0, 0, 0, 0, 0, 0, 0, 0]);
  expect(() => unpackIds(bytes, 0, 1, 1, ranking.rankedIds, new Uint32Array(1), 0)).toThrow(expect.objectContaining({ code: 'E_PART_FORMAT', message: expect.stringMatching(/outside the part's id ranking/) }));
});
