// Test support: asserts that a document read back equals the one written, exactly where the
// format is lossless (text, spans, tokens, ids) and within the quantization bounds elsewhere.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LabelledDocument } from '@kd/compress';
import { expectSameRows } from '@kd/compress/testing';
import { expect } from 'vitest';
import { quantizationErrorBound, type QuantizationScheme } from './quantization.js';

export { testHeader } from './synthetic.js';

/** A path inside a fresh temporary folder (the dataset folder itself does not exist yet). */
export async function freshDatasetPath(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'kd-codec-')), 'dataset');
}

export function expectSameDocument(actual: LabelledDocument, expected: LabelledDocument, scheme: QuantizationScheme): void {
  expect(actual.index).toBe(expected.index);
  expect(actual.id).toBe(expected.id);
  expect(actual.task).toBe(expected.task);
  expect(actual.text).toBe(expected.text);
  expect(actual.tokenIds).toEqual(expected.tokenIds);
  expect(actual.offsets).toEqual(expected.offsets);
  expectSameRows(actual.rows, expected.rows, {
    probability: (p) => quantizationErrorBound(scheme, p),
    tailMass: 1 / 131070 + 1e-7,
    exactIds: true,
  });
}
