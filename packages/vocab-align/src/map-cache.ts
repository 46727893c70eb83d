// The whole-vocabulary map, built once and kept on disk under both tokenizers' sha256: a second
// run with the same pair of tokenizers reads it back instead of re-tokenizing every token.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { AlignError } from './errors.js';
import type { Tokenizer } from '@kd/text';
import { MatchKind, mappingRules, VocabularyMap, type MappingRule } from './vocabulary-map.js';

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
  /** Absent in maps written before the byte-prefix rule: first-piece. */
  rule: z.enum(mappingRules as [MappingRule, ...MappingRule[]]).default('first-piece'),
});

export interface BuildVocabularyMapOptions {
  /** Folder for cached maps; without it the map is built and not stored. */
  cacheDir?: string;
  /** How tokens without a byte-identical student token are mapped (default `first-piece`). */
  rule?: MappingRule;
}

/** Where the map of this tokenizer pair is cached. */
export function vocabularyMapCachePath(cacheDir: string, teacher: Tokenizer, student: Tokenizer, rule: MappingRule = 'first-piece'): string {
  const ruleName = rule === 'first-piece' ? '' : `${rule}-`;
  return join(cacheDir, `vocab-map-v${cacheFormat}-${ruleName}${teacher.sha256}-${student.sha256}.json`);
}

async function readCached(path: string, teacher: Tokenizer, student: Tokenizer, rule: MappingRule): Promise<VocabularyMap | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined; // not built yet
  }
  return parseMapFile(path, text, teacher, student, rule);
}

function parseMapFile(path: string, text: string, teacher: Tokenizer, student: Tokenizer, rule: MappingRule | undefined): VocabularyMap {
  const problem = (what: string) =>
    new AlignError('E_CACHE', `${path}: ${what}; the cached map is damaged, delete the file and run again to rebuild it`);
  let parsed: z.infer<typeof cacheSchema>;
  try {
    parsed = cacheSchema.parse(JSON.parse(text));
  } catch (cause) {
    throw Object.assign(problem('not a vocabulary map file'), { cause });
  }
  if (parsed.teacherSha256 !== teacher.sha256 || parsed.studentSha256 !== student.sha256) {
    if (rule === undefined) {
      throw new AlignError(
        'E_MAP_MISMATCH',
        `${path} maps teacher tokenizer sha256 ${parsed.teacherSha256.slice(0, 12)}… onto student ${parsed.studentSha256.slice(0, 12)}…, not this pair (teacher ${teacher.path} ${teacher.sha256.slice(0, 12)}…, student ${student.path} ${student.sha256.slice(0, 12)}…); build the map for these tokenizers`,
      );
    }
    throw problem('its tokenizer hashes differ from its name');
  }
  if (rule !== undefined && parsed.rule !== rule) throw problem(`it holds rule ${parsed.rule}, its name says ${rule}`);
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
  return new VocabularyMap(teacher, student, { teacherToStudent, matchKind }, parsed.rule);
}

/**
 * Reads a map file (one `buildVocabularyMap` cached) for this pair of tokenizers; a map built
 * for another pair is refused (E_MAP_MISMATCH), a damaged one too (E_CACHE).
 */
export async function readVocabularyMap(path: string, teacher: Tokenizer, student: Tokenizer): Promise<VocabularyMap> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new AlignError('E_CACHE', `cannot read the vocabulary map ${path} (${(cause as Error).message}); build it with buildVocabularyMap or kd align`, { cause });
  }
  return parseMapFile(path, text, teacher, student, undefined);
}

/**
 * Maps the whole teacher vocabulary onto the student's, reading the map from `cacheDir` when
 * this pair of tokenizers was mapped before and storing it there otherwise.
 */
export async function buildVocabularyMap(teacher: Tokenizer, student: Tokenizer, options: BuildVocabularyMapOptions = {}): Promise<VocabularyMap> {
  const rule = options.rule ?? 'first-piece';
  const path = options.cacheDir ? vocabularyMapCachePath(options.cacheDir, teacher, student, rule) : undefined;
  if (path) {
    const cached = await readCached(path, teacher, student, rule);
    if (cached) return cached;
  }
  const map = new VocabularyMap(teacher, student, undefined, rule);
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
      rule,
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
