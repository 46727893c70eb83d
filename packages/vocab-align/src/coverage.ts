// The coverage report: how much of the teacher's vocabulary the student shares (raw spelling
// vs bytes), how teacher ids were mapped, and, over a labelled dataset, where the teacher's
// probability mass lands and how many student positions receive a teacher row.
import type { LabelledDocument } from '@kd/compress';
import { alignPositions } from './positions.js';
import type { Tokenizer } from '@kd/text';
import { MatchKind, studentTokensByKey, tokenKey, type VocabularyMap } from './vocabulary-map.js';

export interface VocabularyCoverage {
  teacherVocab: number;
  studentVocab: number;
  /** Teacher tokens whose raw spelling is also a student token. */
  overlapRaw: number;
  /** Teacher tokens whose bytes a student token also stands for. */
  overlapNormalized: number;
  exactMapped: number;
  tokenizerMapped: number;
  specialMapped: number;
  /** Teacher tokens that fell back to the student's unknown token. */
  unknownMapped: number;
  /** Distinct student ids that teacher tokens map to: the size of the aligned vocabulary in use. */
  alignedVocab: number;
}

export interface DatasetCoverage {
  documents: number;
  /** Teacher rows (positions with a distribution). */
  teacherPositions: number;
  studentPositions: number;
  alignedPositions: number;
  alignedPositionFraction: number;
  /** Shares of the teacher's total probability mass (kept + tail), summing to 1. */
  massShare: { exact: number; tokenizer: number; special: number; unknown: number; tail: number };
}

export interface CoverageReport extends VocabularyCoverage {
  teacher: { path: string; sha256: string; family: string };
  student: { path: string; sha256: string; family: string };
  dataset?: DatasetCoverage;
}

function countTokens(tokenizer: Tokenizer): number {
  let count = 0;
  for (let id = 0; id < tokenizer.vocabSize; id++) if (tokenizer.token(id) !== undefined) count++;
  return count;
}

/** Vocabulary-level coverage of a complete map (call `map.complete()` or use `buildVocabularyMap`). */
export function vocabularyCoverage(map: VocabularyMap): VocabularyCoverage {
  const { teacher, student } = map;
  const studentByKey = studentTokensByKey(student);
  const studentSpecialKeys = new Set<string>();
  for (let id = 0; id < student.vocabSize; id++) if (student.isSpecial(id)) studentSpecialKeys.add(tokenKey(student, id));
  let overlapRaw = 0;
  let overlapNormalized = 0;
  const kinds = new Uint32Array(6);
  const reached = new Uint8Array(student.vocabSize);
  for (let id = 0; id < teacher.vocabSize; id++) {
    const token = teacher.token(id);
    kinds[map.matchKind[id]]++;
    if (token === undefined) continue;
    if (student.idOfToken(token) !== undefined) overlapRaw++;
    const key = tokenKey(teacher, id);
    if (studentByKey.has(key) || studentSpecialKeys.has(key)) overlapNormalized++;
    const target = map.teacherToStudent[id];
    if (target >= 0) reached[target] = 1;
  }
  let alignedVocab = 0;
  for (const flag of reached) alignedVocab += flag;
  return {
    teacherVocab: countTokens(teacher),
    studentVocab: countTokens(student),
    overlapRaw,
    overlapNormalized,
    exactMapped: kinds[MatchKind.exact],
    tokenizerMapped: kinds[MatchKind.tokenizer],
    specialMapped: kinds[MatchKind.special],
    unknownMapped: kinds[MatchKind.unknown],
    alignedVocab,
  };
}

/**
 * Walks labelled documents: the share of teacher mass on exactly mapped vs tokenizer-mapped ids,
 * and the fraction of student positions (documents encoded with BOS/EOS, as the teacher reads
 * them) that receive a teacher row. Lazy maps are filled as ids occur.
 */
export async function datasetCoverage(map: VocabularyMap, documents: AsyncIterable<LabelledDocument> | Iterable<LabelledDocument>): Promise<DatasetCoverage> {
  const mass = new Float64Array(6);
  let tail = 0;
  let documentCount = 0;
  let teacherPositions = 0;
  let studentPositions = 0;
  let alignedPositions = 0;
  for await (const document of documents) {
    const { rows } = document;
    await map.ensure(rows.ids);
    for (let row = 0; row < rows.length; row++) {
      for (let entry = rows.offsets[row]; entry < rows.offsets[row + 1]; entry++) {
        mass[map.matchKind[rows.ids[entry]]] += rows.probs[entry];
      }
      tail += rows.tailMass[row];
    }
    const studentEncoding = await map.student.frame(document.text);
    const aligned = alignPositions(document, studentEncoding, rows.length);
    for (const row of aligned) if (row >= 0) alignedPositions++;
    documentCount++;
    teacherPositions += rows.length;
    studentPositions += aligned.length;
  }
  const total = mass.reduce((sum, value) => sum + value, 0) + tail;
  const share = (value: number) => (total > 0 ? value / total : 0);
  return {
    documents: documentCount,
    teacherPositions,
    studentPositions,
    alignedPositions,
    alignedPositionFraction: studentPositions > 0 ? alignedPositions / studentPositions : 0,
    massShare: {
      exact: share(mass[MatchKind.exact]),
      tokenizer: share(mass[MatchKind.tokenizer]),
      special: share(mass[MatchKind.special]),
      unknown: share(mass[MatchKind.unknown]),
      tail: share(tail),
    },
  };
}

/** The whole report: vocabulary coverage, and dataset coverage when documents are given. */
export async function coverageReport(
  map: VocabularyMap,
  documents?: AsyncIterable<LabelledDocument> | Iterable<LabelledDocument>,
): Promise<CoverageReport> {
  await map.complete();
  const describe = (tokenizer: Tokenizer) => ({ path: tokenizer.path, sha256: tokenizer.sha256, family: tokenizer.family });
  return {
    teacher: describe(map.teacher),
    student: describe(map.student),
    ...vocabularyCoverage(map),
    ...(documents ? { dataset: await datasetCoverage(map, documents) } : {}),
  };
}
