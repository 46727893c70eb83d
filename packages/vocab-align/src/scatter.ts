// Scatters a teacher sparse row into a dense vector over the aligned (student) vocabulary:
// the teacher target the trainer compares the student with. Teacher tokens that share a
// student id (collisions) add up, so no kept probability is lost.
import type { SparseRow } from '@kd/compress';
import { AlignError } from './errors.js';

/**
 * Zeroes `out` (length: the student vocabulary), adds each kept probability at its student id
 * and returns the kept mass placed (Σ row.probs; the row's tailMass is left to the caller).
 */
export function scatterAligned(row: SparseRow, teacherToStudent: Int32Array, out: Float32Array): number {
  out.fill(0);
  const { ids, probs } = row;
  let kept = 0;
  for (let i = 0; i < ids.length; i++) {
    const teacherId = ids[i];
    const studentId = teacherId < teacherToStudent.length ? teacherToStudent[teacherId] : -1;
    if (studentId < 0 || studentId >= out.length) {
      throw new AlignError(
        studentId < 0 ? 'E_UNMAPPED' : 'E_INPUT',
        studentId < 0
          ? `teacher id ${teacherId} has no student id; call map.ensure(row.ids) first (or build the whole map) and check the rows come from this teacher tokenizer`
          : `teacher id ${teacherId} maps to student id ${studentId}, outside the output vector of ${out.length}; size it to the student vocabulary`,
      );
    }
    out[studentId] += probs[i];
    kept += probs[i];
  }
  return kept;
}
