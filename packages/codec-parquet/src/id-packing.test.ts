import fc from 'fast-check';
import { expect, test } from 'vitest';
import { CodecError } from './errors.js';
import { BitSink, packIds, rankIds, unpackIds, unpackPadding } from './id-packing.js';

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
