import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildVocabularyMap } from './map-cache.js';
import { scatterAligned } from './scatter.js';
import { tokenizerNamed } from '@kd/text/testing';

/** A sparse row over `ids` with probabilities proportional to `weights`, scaled to `kept`. */
function rowOf(ids: number[], weights: number[], kept: number) {
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const probs = Float32Array.from(weights, (weight) => (weight / total) * kept);
  return { ids: Uint32Array.from(ids), probs, tailMass: 1 - probs.reduce((sum, value) => sum + value, 0) };
}

describe('scatterAligned', () => {
  it('reconstructs the kept mass over the aligned vocabulary, collisions added up (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }).chain((teacherVocab) =>
          fc.record({
            map: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: teacherVocab, maxLength: teacherVocab }),
            entries: fc.uniqueArray(fc.integer({ min: 0, max: teacherVocab - 1 }), { minLength: 1, maxLength: teacherVocab }),
            weights: fc.array(fc.double({ min: 0.01, max: 1, noNaN: true }), { minLength: teacherVocab, maxLength: teacherVocab }),
            kept: fc.double({ min: 0.05, max: 1, noNaN: true }),
          }),
        ),
        ({ map, entries, weights, kept }) => {
          const row = rowOf(entries, entries.map((_, index) => weights[index]), kept);
          const out = new Float32Array(10).fill(7); // stale values must not survive
          const placed = scatterAligned(row, Int32Array.from(map), out);
          const expected = new Float64Array(10);
          entries.forEach((id, index) => (expected[map[id]] += row.probs[index]));
          const sum = out.reduce((total, value) => total + value, 0);
          const keptMass = row.probs.reduce((total, value) => total + value, 0);
          expect(placed).toBeCloseTo(keptMass, 5);
          expect(sum).toBeCloseTo(keptMass, 5);
          out.forEach((value, id) => expect(value).toBeCloseTo(expected[id], 6));
        },
      ),
    );
  });

  it('sums to the kept mass for real rows mapped from the teacher onto the example student', async () => {
    const teacher = await tokenizerNamed('teacher');
    const student = await tokenizerNamed('student');
    const map = await buildVocabularyMap(teacher, student);
    const { ids } = await teacher.encode('The Congress of the United States shall make no law respecting 東京 🦜');
    // A row over the teacher tokens of a real text (CJK and emoji included).
    const row = rowOf(Array.from(new Set(ids)), Array.from(new Set(ids), (_, index) => 1 / (index + 1)), 0.9);
    const out = new Float32Array(map.studentVocabSize);
    const placed = scatterAligned(row, map.teacherToStudent, out);
    expect(placed).toBeCloseTo(0.9, 5);
    expect(out.reduce((total, value) => total + value, 0)).toBeCloseTo(0.9, 5);
    const nonZero = out.filter((value) => value > 0).length;
    expect(nonZero).toBeLessThanOrEqual(row.ids.length);
    for (const id of row.ids) expect(out[map.teacherToStudent[id]]).toBeGreaterThan(0);
  });

  it('refuses ids that have no student id yet, or that land outside the vector', () => {
    const row = rowOf([0, 1], [1, 1], 1);
    expect(() => scatterAligned(row, Int32Array.from([0, -1]), new Float32Array(4))).toThrowError(expect.objectContaining({ code: 'E_UNMAPPED' }));
    expect(() => scatterAligned(row, Int32Array.from([0]), new Float32Array(4))).toThrowError(expect.objectContaining({ code: 'E_UNMAPPED' }));
    expect(() => scatterAligned(row, Int32Array.from([0, 9]), new Float32Array(4))).toThrowError(expect.objectContaining({ code: 'E_INPUT' }));
  });
});
