// Position alignment: teacher and student split the same text at different places. Row t of a
// teacher document predicts the token that starts where token t + 1 starts; a student position
// receives that row when its own next token starts at the same character, so both have read
// the same text. Other student positions get no soft target (hard label only).

/** Token spans of one tokenization of a text: 2 × tokens, UTF-16 [start, end) pairs. */
export interface TokenSpans {
  offsets: Uint32Array;
}

/**
 * The key of what the position after token `index` predicts: the start of the next token,
 * distinguishing empty-span tokens (BOS, EOS) and "after the last token" from text tokens at
 * the same offset. −1 when the next token continues the character another token began (byte
 * pieces of one emoji share its span): its context ends inside a character.
 */
function predictedKey(offsets: Uint32Array, index: number, tokens: number): number {
  const next = index + 1;
  if (next >= tokens) {
    const end = offsets[2 * index + 1];
    const emptyLast = offsets[2 * index] === end;
    return end * 4 + (emptyLast ? 3 : 2);
  }
  const start = offsets[2 * next];
  if (start < offsets[2 * index + 1]) return -1;
  return start * 4 + (offsets[2 * next + 1] === start ? 1 : 0);
}

/**
 * For each student position, the teacher row whose predicted token starts at the same
 * character offset, or −1. `teacherRows` is the number of teacher rows (default: one per
 * teacher token); both span lists must index the same text.
 */
export function alignPositions(teacher: TokenSpans, student: TokenSpans, teacherRows = teacher.offsets.length / 2): Int32Array {
  const teacherTokens = teacher.offsets.length / 2;
  const studentTokens = student.offsets.length / 2;
  const rowByKey = new Map<number, number>();
  for (let row = 0; row < Math.min(teacherRows, teacherTokens); row++) {
    const key = predictedKey(teacher.offsets, row, teacherTokens);
    if (key >= 0 && !rowByKey.has(key)) rowByKey.set(key, row);
  }
  const aligned = new Int32Array(studentTokens);
  for (let position = 0; position < studentTokens; position++) {
    const key = predictedKey(student.offsets, position, studentTokens);
    aligned[position] = key >= 0 ? (rowByKey.get(key) ?? -1) : -1;
  }
  return aligned;
}

/** The share of positions that received a teacher row. */
export function alignedFraction(aligned: Int32Array): number {
  if (aligned.length === 0) return 0;
  let count = 0;
  for (const row of aligned) if (row >= 0) count++;
  return count / aligned.length;
}
