import { SparseRowsBuilder, type LabelledDocument } from '@kd/compress';
import { describe, expect, it } from 'vitest';
import { coverageReport, datasetCoverage, vocabularyCoverage } from './coverage.js';
import { buildVocabularyMap } from './map-cache.js';
import { alignPositions } from './positions.js';
import { tokenizerNamed, trickyTexts } from '@kd/text/testing';
import type { Tokenizer } from '@kd/text';
import { createVocabularyMap, MatchKind } from './vocabulary-map.js';

/**
 * Documents as @kd/teacher labels them (BOS + tokens + EOS, UTF-16 spans) with rows that put
 * 0.6 on the true next token, 0.3 on the teacher's end-of-document token, and leave 0.1 as tail.
 */
async function labelledDocuments(teacher: Tokenizer, texts: string[]): Promise<LabelledDocument[]> {
  const documents: LabelledDocument[] = [];
  for (const [index, text] of texts.entries()) {
    const { ids, offsets } = await teacher.frame(text);
    const rows = new SparseRowsBuilder();
    for (let position = 0; position < ids.length; position++) {
      const next = position + 1 < ids.length ? ids[position + 1] : teacher.roles.eos!;
      const rowIds = next === teacher.roles.eos ? [next, 13] : [next, teacher.roles.eos!];
      rows.push(rowIds, [0.6, 0.3], 0, 2, 0.1);
    }
    documents.push({ index, id: `doc-${index}`, text, tokenIds: ids, offsets, rows: rows.build() });
  }
  return documents;
}

describe('vocabularyCoverage', () => {
  it('counts byte-normalized overlap above raw overlap across families, and accounts for every id', async () => {
    const teacher = await tokenizerNamed('llama2');
    const student = await tokenizerNamed('qwen3');
    const coverage = vocabularyCoverage(await buildVocabularyMap(teacher, student));
    expect(coverage.teacherVocab).toBe(32000);
    expect(coverage.studentVocab).toBe(151669);
    expect(coverage.overlapNormalized).toBeGreaterThan(2 * coverage.overlapRaw);
    expect(coverage.exactMapped + coverage.tokenizerMapped + coverage.specialMapped + coverage.unknownMapped).toBe(coverage.teacherVocab);
    expect(coverage.specialMapped).toBe(3);
    expect(coverage.alignedVocab).toBeLessThanOrEqual(coverage.teacherVocab);
  });

  it('is total on identical tokenizers', async () => {
    const student = await tokenizerNamed('student');
    const coverage = vocabularyCoverage(await buildVocabularyMap(student, student));
    expect(coverage).toMatchObject({ teacherVocab: 8000, studentVocab: 8000, overlapRaw: 8000, overlapNormalized: 8000, tokenizerMapped: 0, alignedVocab: 8000 });
    expect(coverage.exactMapped + coverage.specialMapped).toBe(8000);
  });
});

describe('datasetCoverage', () => {
  it('splits the teacher mass by how ids were mapped and counts aligned student positions', async () => {
    const teacher = await tokenizerNamed('teacher');
    const student = await tokenizerNamed('student');
    const documents = await labelledDocuments(teacher, trickyTexts);
    const lazy = createVocabularyMap(teacher, student);
    const coverage = await datasetCoverage(lazy, documents);
    expect(lazy.isComplete).toBe(false); // only the ids in the rows were mapped

    // The same figures computed directly.
    const mass = [0, 0, 0, 0, 0, 0];
    let studentPositions = 0;
    let aligned = 0;
    let rows = 0;
    for (const document of documents) {
      for (let entry = 0; entry < document.rows.ids.length; entry++) mass[lazy.matchKind[document.rows.ids[entry]]] += document.rows.probs[entry];
      const positions = alignPositions(document, await student.frame(document.text));
      studentPositions += positions.length;
      aligned += positions.filter((row) => row >= 0).length;
      rows += document.rows.length;
    }
    expect(coverage.documents).toBe(trickyTexts.length);
    expect(coverage.teacherPositions).toBe(rows);
    expect(coverage.studentPositions).toBe(studentPositions);
    expect(coverage.alignedPositions).toBe(aligned);
    expect(coverage.alignedPositionFraction).toBeCloseTo(aligned / studentPositions, 12);
    const { massShare } = coverage;
    expect(massShare.exact + massShare.tokenizer + massShare.special + massShare.unknown + massShare.tail).toBeCloseTo(1, 6);
    expect(massShare.tail).toBeCloseTo(0.1, 5);
    expect(massShare.exact).toBeCloseTo(mass[MatchKind.exact] / rows, 5);
    expect(massShare.tokenizer).toBeCloseTo(mass[MatchKind.tokenizer] / rows, 5);
    expect(massShare.special).toBeGreaterThan(0.3);
  });

  it('aligns every position and maps all mass exactly when teacher and student are one tokenizer', async () => {
    const student = await tokenizerNamed('student');
    const texts = ['Plain English text, with punctuation; and numbers 1234.', 'def f(x):\n    return x\n'];
    const report = await coverageReport(createVocabularyMap(student, student), await labelledDocuments(student, texts));
    expect(report.dataset!.alignedPositionFraction).toBe(1);
    expect(report.dataset!.massShare.tokenizer).toBe(0);
    expect(report.teacher.sha256).toBe(student.sha256);
    expect(report.tokenizerMapped).toBe(0);
  });
});
