import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alignedFraction, alignPositions } from './positions.js';
import { tokenizerNamed, trickyTexts, type TokenizerName } from '@kd/text/testing';
import type { EncodedText, Tokenizer } from '@kd/text';

/** Where the token after position `index` starts (the text length past the last token). */
function predictedStart(encoding: EncodedText, index: number): number {
  return index + 1 < encoding.ids.length ? encoding.offsets[2 * (index + 1)] : encoding.offsets[2 * index + 1];
}

/** The text a position has read: its tokens' bytes, special tokens left out. */
function readBytes(tokenizer: Tokenizer, encoding: EncodedText, position: number): Buffer {
  const parts: Uint8Array[] = [];
  for (let index = 0; index <= position; index++) {
    if (!tokenizer.isSpecial(encoding.ids[index])) parts.push(tokenizer.tokenBytes(encoding.ids[index]));
  }
  return Buffer.concat(parts);
}

describe('alignPositions on real tokenizations', () => {
  const students: TokenizerName[] = ['student', 'qwen3', 'gpt4o'];
  for (const studentName of students) {
    it(`teacher → ${studentName}: aligned positions have read the same text and predict a token starting at the same character`, async () => {
      const teacher = await tokenizerNamed('teacher');
      const student = await tokenizerNamed(studentName);
      for (const text of trickyTexts) {
        const teacherEncoding = await teacher.frame(text);
        const studentEncoding = await student.frame(text);
        const aligned = alignPositions(teacherEncoding, studentEncoding);
        expect(aligned).toHaveLength(studentEncoding.ids.length);
        let count = 0;
        aligned.forEach((row, position) => {
          if (row < 0) return;
          count++;
          const start = predictedStart(studentEncoding, position);
          expect(predictedStart(teacherEncoding, row), text).toBe(start);
          // A UTF-16 offset never falls between the halves of a surrogate pair (emoji).
          expect(text.charCodeAt(start) >= 0xdc00 && text.charCodeAt(start) <= 0xdfff).toBe(false);
          // Both have read exactly text[0, start) (up to Qwen's NFC and the teacher's leading word marker).
          const read = text.slice(0, start).normalize('NFC');
          expect(readBytes(student, studentEncoding, position).toString('utf8').normalize('NFC'), text).toBe(read);
          expect(readBytes(teacher, teacherEncoding, row).toString('utf8').replace(/^ /, '').normalize('NFC'), text).toBe(read);
        });
        // The BOS position (predicting the first token) and the one predicting EOS always align.
        if (student.roles.bos !== undefined) expect(aligned[0]).toBe(0);
        expect(aligned[aligned.length - 2]).toBe(teacherEncoding.ids.length - 2);
        expect(aligned[aligned.length - 1]).toBe(teacherEncoding.ids.length - 1);
        expect(count, text).toBeGreaterThan(2);
        expect(alignedFraction(aligned)).toBeCloseTo(count / aligned.length, 12);
      }
    });
  }

  it('aligns every position of a tokenizer with itself', async () => {
    const teacher = await tokenizerNamed('teacher');
    for (const text of trickyTexts) {
      const encoding = await teacher.frame(text);
      const aligned = alignPositions(encoding, encoding);
      const rows = Int32Array.from({ length: encoding.ids.length }, (_, index) => index);
      // Positions inside a byte-fallback character have read half a character: no target.
      aligned.forEach((row, position) => {
        if (row >= 0) expect(row).toBe(rows[position]);
        else expect(predictedStart(encoding, position)).toBeLessThan(encoding.offsets[2 * position + 1]);
      });
    }
  });

  it('converts code points to UTF-16: text after an emoji still aligns', async () => {
    const teacher = await tokenizerNamed('teacher');
    const student = await tokenizerNamed('student');
    const text = '🦜🦜🦜 hello world';
    const teacherEncoding = await teacher.encode(text);
    const studentEncoding = await student.encode(text);
    expect(studentEncoding.offsets[studentEncoding.offsets.length - 1]).toBe(text.length);
    expect(teacherEncoding.offsets[teacherEncoding.offsets.length - 1]).toBe(text.length);
    const aligned = alignPositions(teacherEncoding, studentEncoding);
    // The position that predicts " world" aligns in both.
    const worldStart = text.indexOf(' world');
    const studentPosition = Array.from({ length: aligned.length }, (_, index) => index).find((index) => predictedStart(studentEncoding, index) === worldStart)!;
    expect(aligned[studentPosition]).toBeGreaterThanOrEqual(0);
    expect(predictedStart(teacherEncoding, aligned[studentPosition])).toBe(worldStart);
  });
});

describe('alignPositions on spans', () => {
  const spans = (...pairs: [number, number][]) => ({ offsets: Uint32Array.from(pairs.flat()) });

  it('tells empty-span markers from text tokens at the same offset', () => {
    // teacher: BOS, "ab", "c", EOS over "abc"; student: "a", "bc" (no markers)
    const teacher = spans([0, 0], [0, 2], [2, 3], [3, 3]);
    const student = spans([0, 1], [1, 3]);
    // student 0 predicts "bc" at 1 (teacher has no boundary at 1); student 1 predicts the end after text,
    // which the teacher predicts as EOS (an empty span): different things.
    expect(Array.from(alignPositions(teacher, student))).toEqual([-1, -1]);
    const studentWithMarkers = spans([0, 0], [0, 1], [1, 3], [3, 3]);
    expect(Array.from(alignPositions(teacher, studentWithMarkers))).toEqual([0, -1, 2, 3]);
  });

  it('gives no row to positions whose next token continues a character', () => {
    // two byte pieces share the span of one emoji at [1, 3)
    const teacher = spans([0, 1], [1, 3], [1, 3], [3, 4]);
    const student = spans([0, 1], [1, 3], [3, 4]);
    expect(Array.from(alignPositions(teacher, student))).toEqual([0, 2, 3]);
  });

  it('uses only the teacher rows that exist', () => {
    const teacher = spans([0, 1], [1, 2], [2, 3]);
    expect(Array.from(alignPositions(teacher, teacher, 2))).toEqual([0, 1, -1]);
  });

  it('aligns a tokenization with itself wherever tokens do not overlap (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 50 }), (lengths) => {
        let at = 0;
        const pairs: [number, number][] = lengths.map((length) => [at, (at += length)]);
        const aligned = alignPositions(spans(...pairs), spans(...pairs));
        // every position aligns to a row that predicts a token starting at the same place
        return aligned.every((row, position) => row >= 0 && (row === position || pairs[row + 1]?.[0] === pairs[position + 1]?.[0]));
      }),
    );
  });
});
