import { describe, expect, it } from 'vitest';
import { captureError } from './selector-suite.js';
import { validateSpec } from './spec.js';
import type { CompressionSpec } from './types.js';

const spec = (value: unknown) => value as CompressionSpec;

describe('validateSpec', () => {
  it('returns a clean copy of a valid spec, filling adaptive defaults', () => {
    expect(validateSpec(spec({ mode: 'fixed', k: 20, note: 'x' }), 32000)).toEqual({ mode: 'fixed', k: 20 });
    expect(validateSpec(spec({ mode: 'adaptive', p: 0.95 }))).toEqual({ mode: 'adaptive', p: 0.95, kMin: 1, kMax: 64 });
    expect(validateSpec({ mode: 'adaptive', p: 1, kMin: 2, kMax: 100 }, 50)).toEqual({ mode: 'adaptive', p: 1, kMin: 2, kMax: 100 });
    expect(validateSpec(spec({ mode: 'sampled', samples: 12 }))).toEqual({ mode: 'sampled', samples: 12, proposalTemperature: 1, seed: 0 });
    expect(validateSpec(spec({ mode: 'hybrid', p: 0.9, samples: 8, seed: 3 }))).toEqual({ mode: 'hybrid', p: 0.9, kMin: 1, kMax: 64, samples: 8, proposalTemperature: 1, seed: 3 });
  });

  it.each([
    [{ mode: 'fixed', k: 0 }, undefined, 'E_K_RANGE'],
    [{ mode: 'fixed', k: 3.5 }, undefined, 'E_K_RANGE'],
    [{ mode: 'fixed', k: '20' }, undefined, 'E_K_RANGE'],
    [{ mode: 'fixed', k: 33 }, 32, 'E_K_RANGE'],
    [{ mode: 'fixed' }, undefined, 'E_K_RANGE'],
    [{ mode: 'adaptive', p: 0 }, undefined, 'E_P_RANGE'],
    [{ mode: 'adaptive', p: 1.01 }, undefined, 'E_P_RANGE'],
    [{ mode: 'adaptive', p: Number.NaN }, undefined, 'E_P_RANGE'],
    [{ mode: 'adaptive', p: 0.9, kMin: 8, kMax: 4 }, undefined, 'E_K_RANGE'],
    [{ mode: 'adaptive', p: 0.9, kMin: 8 }, 4, 'E_K_RANGE'],
    [{ mode: 'adaptive', p: 0.9, kMax: 2.5 }, undefined, 'E_K_RANGE'],
    [{ mode: 'topn', k: 4 }, undefined, 'E_SPEC'],
    [{ mode: 'sampled', k: 4 }, undefined, 'E_K_RANGE'],
    [{ mode: 'sampled', samples: 0 }, undefined, 'E_K_RANGE'],
    [{ mode: 'sampled', samples: 8, proposalTemperature: 0 }, undefined, 'E_SPEC'],
    [{ mode: 'sampled', samples: 8, seed: -1 }, undefined, 'E_SPEC'],
    [{ mode: 'hybrid', samples: 8 }, undefined, 'E_P_RANGE'],
    [{ mode: 'hybrid', p: 0.9, kMin: 8, samples: 8 }, 4, 'E_K_RANGE'],
    [null, undefined, 'E_SPEC'],
    ['fixed', undefined, 'E_SPEC'],
    [{ mode: 'fixed', k: 4 }, 0, 'E_INPUT'],
  ])('refuses %j (vocabulary %s) with %s', (value, vocabSize, code) => {
    const error = captureError(() => validateSpec(spec(value), vocabSize));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(/pass /);
  });
});
