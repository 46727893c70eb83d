import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rowAt, SparseRowsBuilder, sliceRows } from './rows.js';
import { captureError } from './selector-suite.js';

interface PlainRow {
  ids: number[];
  probs: number[];
  tailMass: number;
}

const rowArbitrary: fc.Arbitrary<PlainRow> = fc
  .array(fc.tuple(fc.nat({ max: 0xffffffff }), fc.float({ min: 0, max: 1, noNaN: true })), { maxLength: 40 })
  .chain((entries) =>
    fc.record({
      ids: fc.constant(entries.map(([id]) => id)),
      probs: fc.constant(entries.map(([, prob]) => prob)),
      tailMass: fc.float({ min: 0, max: 1, noNaN: true }),
    }),
  );

function plain(rows: { ids: ArrayLike<number>; probs: ArrayLike<number>; tailMass: number }): PlainRow {
  return { ids: Array.from(rows.ids), probs: Array.from(rows.probs), tailMass: rows.tailMass };
}

describe('SparseRowsBuilder', () => {
  it('round-trips arbitrary rows through build() and rowAt(), growing past its capacity hints', () => {
    fc.assert(
      fc.property(fc.array(rowArbitrary, { maxLength: 60 }), fc.nat({ max: 4 }), (input, padding) => {
        const builder = new SparseRowsBuilder(1, 1);
        for (const row of input) {
          // Rows arrive as slices of a bigger batch buffer, as from a batched TopK output.
          const ids = new Uint32Array(padding + row.ids.length);
          const probs = new Float32Array(padding + row.probs.length);
          ids.set(row.ids, padding);
          probs.set(row.probs, padding);
          builder.push(ids, probs, padding, row.ids.length, row.tailMass);
        }
        expect(builder.length).toBe(input.length);
        const rows = builder.build();
        expect(rows.length).toBe(input.length);
        expect(rows.offsets.length).toBe(input.length + 1);
        expect(rows.ids.length).toBe(rows.offsets[input.length]);
        for (let i = 0; i < input.length; i++) expect(plain(rowAt(rows, i))).toEqual(input[i]);
      }),
    );
  });

  it('returns copies: pushing after build() leaves the built rows unchanged', () => {
    const builder = new SparseRowsBuilder();
    builder.push([7, 3], [0.6, 0.3], 0, 2, 0.1);
    const first = builder.build();
    builder.push([9], [0.9], 0, 1, 0.1);
    expect(first.length).toBe(1);
    expect(Array.from(first.ids)).toEqual([7, 3]);
    expect(builder.build().length).toBe(2);
  });

  it('stores a tail mass a float-rounding hair below 0 as 0', () => {
    const builder = new SparseRowsBuilder();
    builder.push([1], [1], 0, 1, -6e-8);
    expect(builder.build().tailMass[0]).toBe(0);
  });

  it('refuses bad slices, ids, probabilities and tail masses', () => {
    const builder = new SparseRowsBuilder();
    const cases: [() => void, string, string][] = [
      [() => builder.push([1, 2], [0.5, 0.5], 1, 2, 0), 'E_INPUT', 'start + count ≤ 2'],
      [() => builder.push([-1], [0.5], 0, 1, 0.5), 'E_INPUT', 'ids[0] is -1'],
      [() => builder.push([1.5], [0.5], 0, 1, 0.5), 'E_INPUT', 'ids[0] is 1.5'],
      [() => builder.push([2 ** 32], [0.5], 0, 1, 0.5), 'E_INPUT', 'whole token id'],
      [() => builder.push([1], [Number.NaN], 0, 1, 0.5), 'E_NONFINITE', 'probs[0] is NaN'],
      [() => builder.push([1], [0.5], 0, 1, Number.NaN), 'E_NONFINITE', 'tailMass is NaN'],
      [() => builder.push([1], [0.5], 0, 1, 1.5), 'E_INPUT', 'tailMass is 1.5'],
    ];
    for (const [run, code, message] of cases) {
      const error = captureError(run);
      expect(error.code).toBe(code);
      expect(error.message).toContain(message);
    }
    expect(builder.length).toBe(0);
  });
});

describe('rowAt and sliceRows', () => {
  const builder = new SparseRowsBuilder();
  builder.push([5, 2, 9], [0.5, 0.3, 0.1], 0, 3, 0.1);
  builder.push([], [], 0, 0, 1);
  builder.push([4], [0.75], 0, 1, 0.25);
  builder.push([8, 1], [0.4, 0.35], 0, 2, 0.25);
  const rows = builder.build();

  it('rowAt returns views into the flat arrays, not copies', () => {
    const row = rowAt(rows, 3);
    expect(plain(row)).toEqual({ ids: [8, 1], probs: [0.4, 0.35].map(Math.fround), tailMass: 0.25 });
    expect(row.ids.buffer).toBe(rows.ids.buffer);
    expect(rowAt(rows, 1).ids.length).toBe(0);
  });

  it('sliceRows gives the same rows re-based at 0, sharing memory', () => {
    fc.assert(
      fc.property(fc.nat({ max: rows.length }), fc.nat({ max: rows.length }), (a, b) => {
        const [start, end] = a <= b ? [a, b] : [b, a];
        const slice = sliceRows(rows, start, end);
        expect(slice.length).toBe(end - start);
        expect(slice.offsets[0]).toBe(0);
        for (let i = 0; i < slice.length; i++) expect(plain(rowAt(slice, i))).toEqual(plain(rowAt(rows, start + i)));
        expect(slice.probs.buffer).toBe(rows.probs.buffer);
      }),
    );
  });

  it('refuses out-of-range indices with E_INPUT', () => {
    for (const index of [-1, 4, 1.5]) expect(captureError(() => rowAt(rows, index)).code).toBe('E_INPUT');
    expect(captureError(() => sliceRows(rows, 3, 2)).code).toBe('E_INPUT');
    expect(captureError(() => sliceRows(rows, 0, 5)).code).toBe('E_INPUT');
  });
});
