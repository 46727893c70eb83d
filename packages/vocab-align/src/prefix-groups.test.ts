import { describe, expect, it } from 'vitest';
import { tokenizerNamed } from '@kd/text/testing';
import { buildVocabularyMap } from './map-cache.js';
import { groupedWidth, prefixGroups } from './prefix-groups.js';
import { tokenKey } from './vocabulary-map.js';

describe('prefix groups', () => {
  it('partition the student vocabulary, hold each teacher id with its mapped student id, and join a student token with the teacher token it extends', async () => {
    const teacher = await tokenizerNamed('teacher');
    const student = await tokenizerNamed('student');
    const map = await buildVocabularyMap(teacher, student);
    const groups = prefixGroups(map);
    const groupOfStudent = new Int32Array(student.vocabSize).fill(-1);
    for (let group = 0; group + 1 < groups.offsets.length; group++) {
      for (let at = groups.offsets[group]; at < groups.offsets[group + 1]; at++) {
        const id = groups.members[at];
        expect(groupOfStudent[id]).toBe(-1);
        groupOfStudent[id] = group;
        expect(groups.studentGroup[id]).toBe(group);
      }
    }
    expect(groupOfStudent.indexOf(-1)).toBe(-1);
    for (let id = 0; id < teacher.vocabSize; id++) {
      if (map.teacherToStudent[id] < 0) expect(groups.teacherGroup[id]).toBe(-1);
      else expect(groups.teacherGroup[id]).toBe(groupOfStudent[map.teacherToStudent[id]]);
    }
    // A student token the teacher lacks, whose bytes extend a teacher token: same group as that token.
    const teacherKeys = new Map<string, number>();
    for (let id = 0; id < teacher.vocabSize; id++) if (!teacher.isSpecial(id)) teacherKeys.set(tokenKey(teacher, id), id);
    let joined = 0;
    for (let id = 0; id < student.vocabSize && joined < 50; id++) {
      const key = tokenKey(student, id);
      if (student.isSpecial(id) || key.length < 2 || teacherKeys.has(key)) continue;
      let prefix: number | undefined;
      for (let length = key.length - 1; length > 0 && prefix === undefined; length--) prefix = teacherKeys.get(key.slice(0, length));
      if (prefix === undefined) continue;
      expect(groups.teacherGroup[prefix], `${student.token(id)} with ${teacher.token(prefix)}`).toBe(groupOfStudent[id]);
      joined++;
    }
    expect(joined).toBe(50);
    // Most groups are one student token; the row width bound adds the largest ones.
    const singletons = groups.sizesDescending.filter((size) => size === 1).length;
    expect(singletons / groups.sizesDescending.length).toBeGreaterThan(0.5);
    expect(groupedWidth(groups, 1)).toBe(groups.sizesDescending[0]);
    expect(groupedWidth(groups, groups.sizesDescending.length + 10)).toBe(student.vocabSize);
  });

  it('are the map itself when the teacher has every student token', async () => {
    const student = await tokenizerNamed('student');
    const groups = prefixGroups(await buildVocabularyMap(student, student));
    expect(groups.sizesDescending[0]).toBe(1);
    expect(groups.offsets.length - 1).toBe(student.vocabSize);
    for (let id = 0; id < student.vocabSize; id++) expect(groups.members[groups.offsets[groups.teacherGroup[id]]]).toBe(id);
  });
});
