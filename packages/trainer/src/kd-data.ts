// Opens the distillation data of a run and refuses bad input before any step: labels made
// with another tokenizer than the teacher's named, a labels folder of an unknown format
// version or an incomplete one, a vocabulary map built for another pair of tokenizers.
import { CodecError, openDataset, type Manifest } from '@kd/codec-parquet';
import { loadTokenizer, type Tokenizer } from '@kd/text';
import { AlignError, buildVocabularyMap, readVocabularyMap, type MappingRule, type VocabularyMap } from '@kd/vocab-align';
import { TrainerError } from './errors.js';
import type { StudentEncoder, TeacherRowSource } from './kd-batches.js';
import { targetWidth } from './kd-targets.js';

export interface DistillationData {
  source: TeacherRowSource;
  manifest: Manifest;
  map: VocabularyMap;
  teacher: Tokenizer;
  student: Tokenizer;
  encode: StudentEncoder;
  width: number;
}

async function tokenizerAt(path: string, what: string): Promise<Tokenizer> {
  try {
    return await loadTokenizer(path);
  } catch (cause) {
    throw new TrainerError('E_TOKENIZER', `${what} ${path}: ${(cause as Error).message}`, { cause });
  }
}

/** The student's framing (BOS + tokens + EOS), the one the cross-entropy path trains on. */
export function studentEncoder(student: Tokenizer): StudentEncoder {
  return (text) => student.frame(text, { bos: true, eos: true });
}

/** Loads both tokenizers and the map, refusing a map built for another pair. */
export async function openVocabulary(options: { teacherTokenizer: string; studentTokenizer: string; map?: string; mapping: MappingRule; mapCacheDir?: string }): Promise<{ teacher: Tokenizer; student: Tokenizer; map: VocabularyMap }> {
  const teacher = await tokenizerAt(options.teacherTokenizer, 'teacherTokenizer');
  const student = await tokenizerAt(options.studentTokenizer, 'the student tokenizer');
  let map: VocabularyMap;
  try {
    map = options.map ? await readVocabularyMap(options.map, teacher, student) : await buildVocabularyMap(teacher, student, { rule: options.mapping, cacheDir: options.mapCacheDir });
  } catch (cause) {
    if (cause instanceof AlignError) throw new TrainerError('E_DATA', `vocabulary map: ${cause.message}`, { cause });
    throw cause;
  }
  if (map.rule !== options.mapping) {
    throw new TrainerError('E_DATA', `the vocabulary map ${options.map} uses the ${map.rule} rule, but mapping is ${options.mapping}; pass the map built with ${options.mapping} or set mapping to ${map.rule}`);
  }
  return { teacher, student, map };
}

/** Opens a `kd label` dataset for training with the given teacher and student tokenizers. */
export async function openDistillationData(options: {
  labels: string;
  teacherTokenizer: string;
  studentTokenizer: string;
  map?: string;
  mapping: MappingRule;
  mapCacheDir?: string;
}): Promise<DistillationData> {
  const { teacher, student, map } = await openVocabulary(options);
  let reader;
  try {
    reader = await openDataset(options.labels, { expectTokenizerSha256: teacher.sha256 });
  } catch (cause) {
    if (!(cause instanceof CodecError)) throw cause;
    const advice =
      cause.code === 'E_TOKENIZER_MISMATCH'
        ? `labels ${options.labels} were made with another tokenizer than teacherTokenizer ${options.teacherTokenizer}; name the teacher tokenizer the labels were made with, or relabel with this one`
        : `labels ${options.labels} cannot be trained on`;
    throw new TrainerError('E_DATA', `${advice} (${cause.code}: ${cause.message})`, { cause });
  }
  const manifest = reader.manifest;
  if (manifest.vocabSize !== teacher.vocabSize) {
    throw new TrainerError('E_DATA', `labels ${options.labels} have a teacher vocabulary of ${manifest.vocabSize}, teacherTokenizer ${options.teacherTokenizer} has ${teacher.vocabSize}; they do not belong together`);
  }
  const source: TeacherRowSource = { parts: manifest.parts.length, part: (index) => reader.part(index) };
  return { source, manifest, map, teacher, student, encode: studentEncoder(student), width: targetWidth(manifest.compression) };
}
