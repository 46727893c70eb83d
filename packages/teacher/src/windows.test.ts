import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TeacherError } from './errors.js';
import { checkWindowOptions, planWindows } from './windows.js';

describe('planWindows', () => {
  it('labels every position exactly once, in order, each with at least window − stride tokens of left context', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 1, max: 120 }), fc.integer({ min: 1, max: 120 }), (length, window, strideSeed) => {
        const stride = 1 + (strideSeed % window);
        const windows = planWindows(length, window, stride);
        const labelled: number[] = [];
        for (const { start, end, labelFrom } of windows) {
          expect(end - start).toBeLessThanOrEqual(window);
          expect(start).toBeGreaterThanOrEqual(0);
          expect(end).toBeLessThanOrEqual(length);
          expect(labelFrom).toBeGreaterThanOrEqual(start);
          expect(labelFrom).toBeLessThan(end);
          for (let position = labelFrom; position < end; position++) {
            labelled.push(position);
            // The position sees tokens start..position: the whole prefix, or at least window − stride before it.
            if (position - start < Math.min(position, window - stride)) throw new Error(`position ${position} has context from ${start} only`);
          }
        }
        expect(labelled).toEqual(Array.from({ length }, (_, i) => i));
      }),
    );
  });

  it('keeps a document that fits in one window whole, and sits the last window flush with the end', () => {
    expect(planWindows(10, 16, 8)).toEqual([{ start: 0, end: 10, labelFrom: 0 }]);
    expect(planWindows(0, 16, 8)).toEqual([]);
    expect(planWindows(30, 16, 8)).toEqual([
      { start: 0, end: 16, labelFrom: 0 },
      { start: 8, end: 24, labelFrom: 16 },
      { start: 14, end: 30, labelFrom: 24 },
    ]);
  });

  it('refuses windows beyond the context length and strides beyond the window', () => {
    expect(() => checkWindowOptions(2048, 1024, 1024)).toThrow(TeacherError);
    expect(() => checkWindowOptions(16, 17, 1024)).toThrow(/stride/);
    expect(() => checkWindowOptions(16, 0, 1024)).toThrow(/stride/);
    expect(() => checkWindowOptions(16, 8, 1024)).not.toThrow();
  });
});
