import { expect, test } from 'vitest';
import type { SparseRows } from './types.js';
import { expectSameRows } from './testing.js';

function rows(entries: [number, number][][]): SparseRows {
  const offsets = new Uint32Array(entries.length + 1);
  entries.forEach((row, i) => (offsets[i + 1] = offsets[i] + row.length));
  const flat = entries.flat();
  return {
    length: entries.length,
    offsets,
    ids: Uint32Array.from(flat.map(([id]) => id)),
    probs: Float32Array.from(flat.map(([, p]) => p)),
    tailMass: Float32Array.from(entries.map((row) => 1 - row.reduce((sum, [, p]) => sum + p, 0))),
  };
}

const expected = rows([[[5, 0.5], [7, 0.25], [9, 0.25]], [[1, 0.9]]]);

test('rows with the same probabilities but other ids are not the same rows', () => {
  expect(() => expectSameRows(rows([[[5, 0.5], [8, 0.25], [9, 0.25]], [[1, 0.9]]]), expected)).toThrow(/id 8 is not among the expected ids/);
  expect(() => expectSameRows(rows([[[7, 0.5], [5, 0.25], [9, 0.25]], [[1, 0.9]]]), expected)).toThrow(/swapped with an entry of another probability/);
});

test('ids may swap between entries of equal probability, unless ids must be exact', () => {
  const swapped = rows([[[5, 0.5], [9, 0.25], [7, 0.25]], [[1, 0.9]]]);
  expectSameRows(swapped, expected);
  expect(() => expectSameRows(swapped, expected, { exactIds: true })).toThrow(/id 9, expected 7/);
});

test('probabilities, tail masses and kept counts are compared within the tolerance', () => {
  expectSameRows(rows([[[5, 0.50001], [7, 0.25], [9, 0.25]], [[1, 0.9]]]), expected);
  expect(() => expectSameRows(rows([[[5, 0.51], [7, 0.24], [9, 0.25]], [[1, 0.9]]]), expected)).toThrow(/probability/);
  expect(() => expectSameRows(rows([[[5, 0.5], [7, 0.25]], [[1, 0.9]]]), expected)).toThrow(/kept entries/);
  expectSameRows(rows([[[5, 0.5], [7, 0.25]], [[1, 0.9]]]), expected, { boundaryEntry: true });
  expect(() => expectSameRows(rows([[[5, 0.5], [7, 0.25], [9, 0.25]]]), expected)).toThrow(/row count/);
});
