import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { CodecError } from './errors.js';
import {
  bytesPerProbability,
  dequantizeProbabilities,
  dequantizeRows,
  dequantizeTailMass,
  quantizationErrorBound,
  quantizationSchemes,
  quantizeProbabilities,
  quantizeTailMass,
} from './quantization.js';

const descendingRow = fc
  .array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 64 })
  .map((values) => Float32Array.from(values.sort((a, b) => b - a)));

describe.each(quantizationSchemes)('%s', (scheme) => {
  test('every decoded probability is within the documented error bound', () => {
    fc.assert(
      fc.property(descendingRow, (row) => {
        const bytes = new Uint8Array(row.length * bytesPerProbability(scheme));
        expect(quantizeProbabilities(scheme, row, 0, row.length, bytes, 0)).toBe(bytes.length);
        const decoded = new Float32Array(row.length);
        dequantizeProbabilities(scheme, bytes, 0, row.length, decoded, 0);
        for (let i = 0; i < row.length; i++) {
          expect(Math.abs(decoded[i] - row[i])).toBeLessThanOrEqual(quantizationErrorBound(scheme, row[i]));
        }
        // Order is preserved (ties allowed): ids stay in probability order after decoding.
        for (let i = 1; i < row.length; i++) expect(decoded[i]).toBeLessThanOrEqual(decoded[i - 1]);
      }),
    );
  });

  test('decoding many rows at once gives what decoding each row gives, and names the first row whose length disagrees', () => {
    fc.assert(
      fc.property(fc.array(descendingRow, { minLength: 1, maxLength: 12 }), fc.nat(), (rows, firstSeed) => {
        const width = bytesPerProbability(scheme);
        const offsets = new Int32Array(rows.length + 1);
        rows.forEach((row, r) => (offsets[r + 1] = offsets[r] + row.length * width));
        const bytes = new Uint8Array(offsets[rows.length]);
        rows.forEach((row, r) => quantizeProbabilities(scheme, row, 0, row.length, bytes, offsets[r]));
        const kept = Uint16Array.from(rows.map((row) => row.length));
        const first = firstSeed % rows.length;
        const expected: number[] = [];
        for (let r = first; r < rows.length; r++) {
          const decoded = new Float32Array(rows[r].length);
          dequantizeProbabilities(scheme, bytes, offsets[r], rows[r].length, decoded, 0);
          expected.push(...decoded);
        }
        const out = new Float32Array(expected.length);
        expect(dequantizeRows(scheme, bytes, offsets, kept, first, rows.length - first, out)).toBe(-1);
        expect(Array.from(out)).toEqual(expected);
        const lying = kept.slice();
        lying[rows.length - 1] += 1;
        expect(dequantizeRows(scheme, bytes, offsets, lying, first, rows.length - first, out)).toBe(rows.length - 1);
      }),
      { numRuns: 200 },
    );
  });

  test('refuses rows that are not in descending order or hold non-probabilities', () => {
    const out = new Uint8Array(8);
    expect(() => quantizeProbabilities(scheme, [0.1, 0.5], 0, 2, out, 0)).toThrow(CodecError);
    expect(() => quantizeProbabilities(scheme, [Number.NaN], 0, 1, out, 0)).toThrow(/expected a number in \[0, 1\]/);
    expect(() => quantizeProbabilities(scheme, [1.5], 0, 1, out, 0)).toThrow(/expected a number in \[0, 1\]/);
  });
});

test('tail mass round trips within 1/131070 and refuses values outside [0, 1]', () => {
  fc.assert(
    fc.property(fc.double({ min: 0, max: 1, noNaN: true }), (tail) => {
      expect(Math.abs(dequantizeTailMass(quantizeTailMass(tail)) - tail)).toBeLessThanOrEqual(1 / 131070 + 1e-12);
    }),
  );
  expect(() => quantizeTailMass(-0.5)).toThrow(CodecError);
  expect(() => quantizeTailMass(Number.POSITIVE_INFINITY)).toThrow(CodecError);
});

test('u8-log stores one byte per probability, the 16-bit schemes two', () => {
  expect(bytesPerProbability('u8-log')).toBe(1);
  expect(bytesPerProbability('u16-log')).toBe(2);
  expect(bytesPerProbability('u16-linear')).toBe(2);
});
