import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AlignError } from './errors.js';
import { buildVocabularyMap, readVocabularyMap, vocabularyMapCachePath } from './map-cache.js';
import { tokenizerNamed } from '@kd/text/testing';
import { MatchKind, studentTokensByKey, tokenKey } from './vocabulary-map.js';

describe('byte-prefix rule', () => {
  it('maps each teacher token without a byte-identical student token to the longest student token its bytes begin with', async () => {
    const teacher = await tokenizerNamed('teacher');
    const student = await tokenizerNamed('student');
    const map = await buildVocabularyMap(teacher, student, { rule: 'byte-prefix' });
    const firstPiece = await buildVocabularyMap(teacher, student);
    expect(map.rule).toBe('byte-prefix');
    const byKey = studentTokensByKey(student);
    let ruled = 0;
    let differs = 0;
    for (let id = 0; id < teacher.vocabSize; id++) {
      const kind = map.matchKind[id];
      // Exact and special matches do not depend on the rule.
      if (kind !== MatchKind.tokenizer) {
        expect(kind).toBe(firstPiece.matchKind[id]);
        expect(map.teacherToStudent[id]).toBe(firstPiece.teacherToStudent[id]);
        continue;
      }
      ruled++;
      if (map.teacherToStudent[id] !== firstPiece.teacherToStudent[id]) differs++;
      const key = tokenKey(teacher, id);
      const target = tokenKey(student, map.teacherToStudent[id]);
      expect(key.startsWith(target), `${teacher.token(id)} → ${student.token(map.teacherToStudent[id])}`).toBe(true);
      for (let length = target.length + 1; length < key.length; length++) expect(byKey.has(key.slice(0, length))).toBe(false);
    }
    expect(ruled).toBeGreaterThan(1000);
    // The two rules are different rules: on this pair they part on some tokens.
    expect(differs).toBeGreaterThan(0);
  });

  it('is cached under its own name and read back as the same map', async () => {
    const teacher = await tokenizerNamed('teacher');
    const student = await tokenizerNamed('student');
    const cacheDir = await mkdtemp(join(tmpdir(), 'kd-map-'));
    const built = await buildVocabularyMap(teacher, student, { rule: 'byte-prefix', cacheDir });
    await buildVocabularyMap(teacher, student, { cacheDir });
    expect((await readdir(cacheDir)).sort()).toHaveLength(2);
    const path = vocabularyMapCachePath(cacheDir, teacher, student, 'byte-prefix');
    const read = await readVocabularyMap(path, teacher, student);
    expect(read.rule).toBe('byte-prefix');
    expect(read.teacherToStudent).toEqual(built.teacherToStudent);
  });

  it('a map file built for another pair of tokenizers is refused, naming both pairs', async () => {
    const teacher = await tokenizerNamed('teacher');
    const student = await tokenizerNamed('student');
    const cacheDir = await mkdtemp(join(tmpdir(), 'kd-map-'));
    await buildVocabularyMap(teacher, student, { cacheDir });
    const other = await tokenizerNamed('qwen3');
    const error = await readVocabularyMap(vocabularyMapCachePath(cacheDir, teacher, student), teacher, other).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AlignError);
    expect((error as AlignError).code).toBe('E_MAP_MISMATCH');
    expect((error as AlignError).message).toContain('not this pair');
  });
});
