import { describe, expect, it } from 'vitest';
import { selectRow } from './select.js';
import { adaptiveSpecs, captureError, fixedSpecs, normalize, testSelector } from './selector-suite.js';
import type { CompressionSpec } from './types.js';

testSelector('selectRow, fixed mode', selectRow, fixedSpecs);
testSelector('selectRow, adaptive mode', selectRow, adaptiveSpecs);

describe('selectRow', () => {
  it('refuses an unknown mode with E_SPEC', () => {
    const error = captureError(() => selectRow(normalize([1, 2]), { mode: 'topn', k: 1 } as unknown as CompressionSpec));
    expect(error.code).toBe('E_SPEC');
    expect(error.message).toContain("mode must be 'fixed', 'adaptive', 'sampled' or 'hybrid'");
  });

  it('fills the adaptive defaults when kMin / kMax are left out of a spec read from JSON', () => {
    const spec = JSON.parse('{"mode":"adaptive","p":0.99}') as CompressionSpec;
    const row = selectRow(normalize(new Array<number>(200).fill(1)), spec);
    expect(row.ids.length).toBe(64);
  });
});
