// The teacher-row sampler of a kd run, opened from its settings: offline from a `kd label`
// folder (in the batch worker, kd-batch-worker.ts) or online from a row source handed in. Both
// paths size the targets the same way (the labels' k or kMax; with prefix groups the sum of the
// largest groups' sizes) and leave the checks against the model to the caller.
import { groupedWidth, prefixGroups, type MappingRule, type VocabularyMap } from '@kd/vocab-align';
import type { TargetCategories, TailTreatment } from './kd-divergence.js';
import { TeacherBatchSampler, type StudentEncoder, type TeacherRowSource } from './kd-batches.js';
import { openDistillationData } from './kd-data.js';

/** What opening a sampler needs from a run's settings (plain data: it crosses to the batch worker). */
export interface SamplerSettings {
  teacherTokenizer: string;
  studentTokenizer: string;
  map?: string;
  mapping: MappingRule;
  mapCacheDir?: string;
  sequenceLength: number;
  batchSize: number;
  seed: number;
  tail: TailTreatment;
  categories: TargetCategories;
  shuffleParts: number;
}

/** A sampler and what the caller checks against the model and the objective. */
export interface OpenedSampler {
  sampler: TeacherBatchSampler;
  studentVocabSize: number;
  /** Rows are sampled estimates (compression sampled or hybrid). */
  sampled: boolean;
}

/** The sampler over `source` with the run's order, targets and groups, counted (`open`). */
export async function samplerOver(source: TeacherRowSource, encode: StudentEncoder, map: VocabularyMap, width: number, sampled: boolean, settings: SamplerSettings): Promise<OpenedSampler> {
  // Prefix groups: a row lists every student id of the groups its teacher ids reach.
  const groups = settings.categories === 'prefix-group' ? prefixGroups(map) : undefined;
  const sampler = new TeacherBatchSampler(source, encode, {
    sequenceLength: settings.sequenceLength,
    batchSize: settings.batchSize,
    seed: settings.seed,
    teacherToStudent: map.teacherToStudent,
    studentVocabSize: map.studentVocabSize,
    width: groups ? groupedWidth(groups, width) : width,
    tail: settings.tail,
    estimate: sampled,
    groups,
    shuffleParts: settings.shuffleParts,
  });
  await sampler.open();
  return { sampler, studentVocabSize: map.studentVocabSize, sampled };
}

/** The sampler over a `kd label` folder: the labels, both tokenizers and the map are checked against each other first. */
export async function openLabelsSampler(labels: string, settings: SamplerSettings): Promise<OpenedSampler> {
  const data = await openDistillationData({ labels, teacherTokenizer: settings.teacherTokenizer, studentTokenizer: settings.studentTokenizer, map: settings.map, mapping: settings.mapping, mapCacheDir: settings.mapCacheDir });
  const sampled = data.manifest.compression.mode === 'sampled' || data.manifest.compression.mode === 'hybrid';
  return samplerOver(data.source, data.encode, data.map, data.width, sampled, settings);
}
