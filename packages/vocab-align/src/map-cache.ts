// The whole-vocabulary map, built once and kept on disk under both tokenizers' sha256: a second
// run with the same pair of tokenizers reads it back instead of re-tokenizing every token.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { AlignError } from './errors.js';
import type { Tokenizer } from '@kd/text';
import { MatchKind, VocabularyMap } from './vocabulary-map.js';

/** Bumped whenever the mapping rules change, so maps built by older rules are not reused. */
const cacheFormat = 1;

const cacheSchema = z.object({
  format: z.literal(cacheFormat),
  teacherSha256: z.string(),
  studentSha256: z.string(),
  teacherVocabSize: z.number().int().positive(),
  studentVocabSize: z.number().int().positive(),
  teacherToStudent: z.string(),
  matchKind: z.string(),
});

export interface BuildVocabularyMapOptions {
  /** Folder for cached maps; without it the map is built and not stored. */
  cacheDir?: string;
}

/** Where the map of this tokenizer pair is cached. */
export function vocabularyMapCachePath(cacheDir: string, teacher: Tokenizer, student: Tokenizer): string {
  return join(cacheDir, `vocab-map-v${cacheFormat}-${teacher.sha256}-${student.sha256}.json`);
}

async function readCached(path: string, teacher: Tokenizer, student: Tokenizer): Promise<VocabularyMap | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined; // not built yet
  }
  const problem = (what: string) =>
    new AlignError('E_CACHE', `${path}: ${what}; the cached map is damaged, delete the file and run again to rebuild it`);
  let parsed: z.infer<typeof cacheSchema>;
  try {
    parsed = cacheSchema.parse(JSON.parse(text));
  } catch (cause) {
    throw Object.assign(problem('not a vocabulary map file'), { cause });
  }
  if (parsed.teacherSha256 !== teacher.sha256 || parsed.studentSha256 !== student.sha256) throw problem('its tokenizer hashes differ from its name');
  if (parsed.teacherVocabSize !== teacher.vocabSize || parsed.studentVocabSize !== student.vocabSize) {
    throw problem(`vocabulary sizes ${parsed.teacherVocabSize}/${parsed.studentVocabSize}, expected ${teacher.vocabSize}/${student.vocabSize}`);
  }
  const ids = Buffer.from(parsed.teacherToStudent, 'base64');
  const kinds = Buffer.from(parsed.matchKind, 'base64');
  if (ids.byteLength !== 4 * teacher.vocabSize || kinds.byteLength !== teacher.vocabSize) throw problem('array lengths do not match the teacher vocabulary');
  const teacherToStudent = new Int32Array(teacher.vocabSize);
  new Uint8Array(teacherToStudent.buffer).set(ids);
  const matchKind = new Uint8Array(kinds);
  for (let id = 0; id < teacher.vocabSize; id++) {
    const kind = matchKind[id];
    const target = teacherToStudent[id];
    const valid = kind === MatchKind.absent ? target === -1 : kind > MatchKind.pending && kind < MatchKind.absent && target >= 0 && target < student.vocabSize;
    if (!valid) throw problem(`entry ${id} maps to ${target} with kind ${kind}`);
  }
  return new VocabularyMap(teacher, student, { teacherToStudent, matchKind });
}

/**
 * Maps the whole teacher vocabulary onto the student's, reading the map from `cacheDir` when
 * this pair of tokenizers was mapped before and storing it there otherwise.
 */
export async function buildVocabularyMap(teacher: Tokenizer, student: Tokenizer, options: BuildVocabularyMapOptions = {}): Promise<VocabularyMap> {
  const path = options.cacheDir ? vocabularyMapCachePath(options.cacheDir, teacher, student) : undefined;
  if (path) {
    const cached = await readCached(path, teacher, student);
    if (cached) return cached;
  }
  const map = new VocabularyMap(teacher, student);
  await map.complete();
  if (path && options.cacheDir) {
    const body = JSON.stringify({
      format: cacheFormat,
      teacherSha256: teacher.sha256,
      studentSha256: student.sha256,
      teacherVocabSize: teacher.vocabSize,
      studentVocabSize: student.vocabSize,
      teacherToStudent: Buffer.from(map.teacherToStudent.buffer, map.teacherToStudent.byteOffset, map.teacherToStudent.byteLength).toString('base64'),
      matchKind: Buffer.from(map.matchKind).toString('base64'),
    });
    try {
      await mkdir(options.cacheDir, { recursive: true });
      // Written aside and renamed: a run killed mid-write leaves no half file under the real name.
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, body);
      await rename(temporary, path);
    } catch (cause) {
      throw new AlignError('E_CACHE', `cannot write the vocabulary map cache ${path} (${(cause as Error).message}); pass a writable cache folder`, { cause });
    }
  }
  return map;
}
