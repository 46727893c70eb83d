import { describe, expect, it } from 'vitest';
import { isReadableLogitsType, logitsAsFloat32 } from './logits.js';

describe('logitsAsFloat32', () => {
  it('reads float16 halves exactly (normal, subnormal, zero, infinities, NaN)', () => {
    // 1, −2, 65504 (largest half), 2^−24 (smallest subnormal), −0, +∞, −∞, NaN.
    const halves = Uint16Array.of(0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00, 0xfc00, 0x7e00);
    const values = logitsAsFloat32('float16', halves);
    expect(Array.from(values.subarray(0, 7))).toEqual([1, -2, 65504, 2 ** -24, -0, Infinity, -Infinity]);
    expect(values[7]).toBeNaN();
  });

  it('returns float32 data as it is, and copies it (or float64 data, rounded) into out', () => {
    const data = Float32Array.of(0.5, -1.25);
    expect(logitsAsFloat32('float32', data)).toBe(data);
    const out = new Float32Array(2);
    expect(logitsAsFloat32('float32', data, out)).toBe(out);
    expect(Array.from(out)).toEqual([0.5, -1.25]);
    expect(Array.from(logitsAsFloat32('float64', Float64Array.of(0.1, 3)))).toEqual([Math.fround(0.1), 3]);
  });

  it('says which types it reads', () => {
    expect(['float32', 'float16', 'float64', 'bfloat16', 'int64'].map(isReadableLogitsType)).toEqual([true, true, true, false, false]);
  });

  it('refuses an out of another length', () => {
    expect(() => logitsAsFloat32('float16', new Uint16Array(3), new Float32Array(2))).toThrow(/out holds 2 values, the logits 3/);
  });
});
