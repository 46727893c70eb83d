import fc from 'fast-check';
import { expect, test } from 'vitest';
import { CodecError } from './errors.js';
import { hashUnit, joinUnits, splitUnits, UnitTable, unitLookup } from './units.js';

/** Splits with a table, rebuilds from the stored table alone, and returns the rebuilt document. */
function roundTrip(text: string, spans: number[], table = new UnitTable()) {
  const offsets = Uint32Array.from(spans);
  const tokens = spans.length / 2;
  const units = splitUnits(text, offsets, tokens, table);
  const { codes, texts } = table.entries();
  const rebuilt = joinUnits(unitLookup(codes, texts), units.units, units.gapUnits, units.overlaps, 0, tokens, units.trailingUnit);
  return { rebuilt, offsets, table };
}

test('word pieces with emoji, CJK, accents and runs of spaces rebuild text and spans exactly', () => {
  const text = 'Naïve café  東京 😀👩‍💻 end';
  const spans: number[] = [0, 0]; // BOS
  let start = 0;
  for (const piece of ['Naïve', ' café', '  ', '東京', ' 😀', '👩‍💻', ' end']) {
    spans.push(start, start + piece.length);
    start += piece.length;
  }
  spans.push(text.length, text.length); // EOS
  const { rebuilt, offsets } = roundTrip(text, spans);
  expect(rebuilt.text).toBe(text);
  expect(rebuilt.offsets).toEqual(offsets);
});

test('skipped characters, overlapping byte-fallback spans and trailing text are kept', () => {
  const text = '  a😀b  c   ';
  // Leading spaces skipped; three byte-fallback tokens share the emoji's span; "  " skipped; trailing spaces uncovered.
  const spans = [2, 3, 3, 5, 3, 5, 3, 5, 5, 6, 8, 9, 0, 0];
  const { rebuilt, offsets } = roundTrip(text, spans);
  expect(rebuilt.text).toBe(text);
  expect(rebuilt.offsets).toEqual(offsets);
});

test('a repeated unit is stored once', () => {
  const text = ' the the the';
  const { table } = roundTrip(text, [0, 4, 4, 8, 8, 12]);
  expect(table.size).toBe(1);
});

test('any spans over any text round trip (property)', () => {
  const document = fc.string({ unit: 'binary', maxLength: 40 }).chain((text) =>
    fc.tuple(
      fc.constant(text),
      fc.array(fc.tuple(fc.nat(text.length), fc.nat(text.length)).map(([a, b]) => [Math.min(a, b), Math.max(a, b)]), { maxLength: 20 }),
    ),
  );
  fc.assert(
    fc.property(document, ([text, pairs]) => {
      const { rebuilt, offsets } = roundTrip(text, pairs.flat());
      expect(rebuilt.text).toBe(text);
      expect(rebuilt.offsets).toEqual(offsets);
    }),
    { numRuns: 500 },
  );
});

test('hash collisions are detected, counted and resolved to distinct codes', () => {
  // 3-bit codes: eight slots for six units makes collisions certain.
  const table = new UnitTable({ bits: 3, seed: 1 });
  const pieces = [' a', ' b', ' c', ' d', ' e', ' f'];
  const text = pieces.join('');
  const spans = pieces.flatMap((_, i) => [2 * i, 2 * i + 2]);
  const { rebuilt, offsets } = roundTrip(text, spans, table);
  expect(table.collisions).toBeGreaterThan(0);
  const { codes } = table.entries();
  expect(new Set(codes).size).toBe(codes.length);
  expect(codes.every((code) => code < 8)).toBe(true);
  expect(rebuilt.text).toBe(text);
  expect(rebuilt.offsets).toEqual(offsets);
});

test('a full code space is an error, never a silent overwrite', () => {
  const table = new UnitTable({ bits: 1 });
  table.codeOf('a');
  table.codeOf('b');
  expect(() => table.codeOf('c')).toThrow(expect.objectContaining({ code: 'E_HASH_COLLISION' }));
});

test('spans outside the text are refused', () => {
  expect(() => splitUnits('abc', Uint32Array.from([2, 5]), 1, new UnitTable())).toThrow(CodecError);
  expect(() => splitUnits('abc', Uint32Array.from([2, 1]), 1, new UnitTable())).toThrow(/start ≤ end/);
});

test('the hash depends on seed and width as documented', () => {
  expect(hashUnit('hello', 0, 32)).not.toBe(hashUnit('hello', 1, 32));
  expect(hashUnit('hello', 0, 4)).toBeLessThan(16);
  expect(hashUnit('hello')).toBe(hashUnit('hello', 0, 32));
});
