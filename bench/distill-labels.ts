// Inputs of the distillation-quality benchmark, each made once and kept under out/bench/distill/
// keyed by what made it: the training slice of the corpus (every n-th record) and its label sets.
// The top-k sets (adaptive p=0.95 / kMax 64, fixed k=32, fixed k=8) come from one teacher pass
// over top-64 candidates, cut per setting exactly as the labelling fast path keeps them (TopK(k)
// is a prefix of TopK(64); the adaptive cut takes the fewest whose sum reaches p); the sampled
// set needs draws in the teacher graph and comes from `labelCorpus` itself. A set is complete
// when its `bench-label.json` exists; an interrupted pass is redone from the start.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { datasetStats, formatVersion, openDatasetWriter, type DatasetStats } from '@kd/codec-parquet';
import { type CompressionSpec } from '@kd/compress';
import { labelCorpus } from '@kd/pipeline';
import { loadTeacher } from '@kd/teacher';
import { readCorpus } from '@kd/text';
import { cutRows } from './cut-rows.js';

export function shortHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 12);
}

export function fileHash(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Every `every`-th record of `source` (from the first), written once to `dir`. */
export function trainingSlice(source: string, every: number, dir: string): { path: string; documents: number; sha256: string } {
  const path = join(dir, `train-every-${every}-${fileHash(source).slice(0, 12)}.jsonl`);
  if (!existsSync(path)) {
    const records = readFileSync(source, 'utf8').split('\n').filter((line) => line.trim() !== '');
    const kept = records.filter((_, index) => index % every === 0);
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${path}.tmp`, `${kept.join('\n')}\n`);
    renameSync(`${path}.tmp`, path);
  }
  const text = readFileSync(path, 'utf8');
  return { path, documents: text.split('\n').filter((line) => line.trim() !== '').length, sha256: fileHash(path) };
}

/** The label sets of the benchmark's rows. */
export const labelSettings = {
  adaptive: { name: 'adaptive p=0.95', spec: { mode: 'adaptive', p: 0.95, kMin: 1, kMax: 64 } },
  fixed32: { name: 'fixed k=32', spec: { mode: 'fixed', k: 32 } },
  fixed8: { name: 'fixed k=8', spec: { mode: 'fixed', k: 8 } },
  sampled: { name: 'sampled 12 draws', spec: { mode: 'sampled', samples: 12, proposalTemperature: 1, seed: 0 } },
} satisfies Record<string, { name: string; spec: CompressionSpec }>;

/** The folder of the benchmark's adaptive p=0.95 label set under `labelsDir` (made by `pnpm bench --only distill`). */
export function adaptiveLabelSet(labelsDir: string): string {
  const name = existsSync(labelsDir) ? readdirSync(labelsDir).find((entry) => entry.startsWith('adaptive-p-0.95-')) : undefined;
  if (!name) throw new Error(`no adaptive p=0.95 label set under ${labelsDir}: run \`pnpm bench --only distill --distill-every 20 --distill-rows ce\` first`);
  return join(labelsDir, name);
}

export interface LabelSet {
  name: string;
  spec: CompressionSpec;
  dir: string;
  stats: DatasetStats;
  /** Seconds of the teacher pass that made it (shared by the sets cut from one pass). */
  seconds: number;
  /** Sets made by the same pass. */
  pass: string;
}

interface LabelRecord {
  spec: CompressionSpec;
  stats: DatasetStats;
  seconds: number;
  pass: string;
}

export interface LabelInputs {
  teacherDir: string;
  corpus: { path: string; sha256: string };
  /** Where the sets live (one folder per set, named by the set and its key). */
  dir: string;
  /** Token positions per Parquet part: parts set the data order every row shares. */
  rowsPerPart: number;
  log: (line: string) => void;
}

function setDir(inputs: LabelInputs, name: string, spec: CompressionSpec): string {
  // The codec's format version is part of the key: a set written by an older format is made again.
  const key = shortHash({ teacher: fileHash(join(inputs.teacherDir, 'model.onnx')).slice(0, 16), corpus: inputs.corpus.sha256, spec, temperature: 1, rowsPerPart: inputs.rowsPerPart, formatVersion });
  return join(inputs.dir, `${name.replace(/[^a-z0-9.]+/gi, '-')}-${key}`);
}

function readSet(name: string, dir: string): LabelSet | undefined {
  const marker = join(dir, 'bench-label.json');
  if (!existsSync(marker)) return undefined;
  const record = JSON.parse(readFileSync(marker, 'utf8')) as LabelRecord;
  return { name, dir, ...record };
}

async function markSet(dir: string, spec: CompressionSpec, seconds: number, pass: string): Promise<void> {
  const record: LabelRecord = { spec, stats: await datasetStats(dir), seconds, pass };
  writeFileSync(join(dir, 'bench-label.json'), `${JSON.stringify(record, null, 2)}\n`);
}

/** The top-k sets, from one pass of the teacher over top-`candidates` rows (skipped when all are kept). */
export async function cutLabelSets(inputs: LabelInputs, settings: { name: string; spec: CompressionSpec }[], candidates = 64): Promise<LabelSet[]> {
  const dirs = settings.map((setting) => setDir(inputs, setting.name, setting.spec));
  const kept = settings.map((setting, i) => readSet(setting.name, dirs[i]!));
  if (kept.every((set) => set !== undefined)) return kept as LabelSet[];
  const pass = `one teacher pass over top-${candidates} candidates`;
  inputs.log(`labelling ${inputs.corpus.path} with top-${candidates} candidates for ${settings.map((setting) => setting.name).join(', ')}`);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  const teacher = await loadTeacher(inputs.teacherDir, { topK: candidates, threads: 2 });
  const started = performance.now();
  try {
    const header = (spec: CompressionSpec) => ({
      teacher: { id: 'teacher-llama-13m', sha256: teacher.modelSha256 },
      tokenizer: { sha256: teacher.tokenizerSha256 },
      vocabSize: teacher.vocabSize,
      temperature: 1,
      compression: spec,
      corpus: { path: inputs.corpus.path },
    });
    const writers = await Promise.all(settings.map((setting, i) => openDatasetWriter(dirs[i]!, header(setting.spec), { rowsPerPart: inputs.rowsPerPart })));
    let tokens = 0;
    let documents = 0;
    for await (const document of teacher.label(readCorpus(inputs.corpus.path), { spec: { mode: 'fixed', k: candidates } })) {
      for (let i = 0; i < settings.length; i++) await writers[i]!.append(cutRows(document, settings[i]!.spec));
      tokens += document.tokenIds.length;
      if (++documents % 200 === 0) inputs.log(`  ${documents} documents, ${tokens} tokens, ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }
    for (const writer of writers) await writer.close();
  } finally {
    await teacher.close();
  }
  const seconds = (performance.now() - started) / 1000;
  for (let i = 0; i < settings.length; i++) await markSet(dirs[i]!, settings[i]!.spec, seconds, pass);
  return settings.map((setting, i) => readSet(setting.name, dirs[i]!)!);
}

/** A set labelled by `labelCorpus` (the sampled mode: its draws happen in the teacher graph). */
export async function labelledSet(inputs: LabelInputs, name: string, spec: CompressionSpec): Promise<LabelSet> {
  const dir = setDir(inputs, name, spec);
  const kept = readSet(name, dir);
  if (kept) return kept;
  inputs.log(`labelling ${inputs.corpus.path} with ${name} (labelCorpus; resumes a stopped run)`);
  const started = performance.now();
  await labelCorpus({ teacher: inputs.teacherDir, corpus: inputs.corpus.path, out: dir, compression: spec, rowsPerPart: inputs.rowsPerPart, threads: 2 }, {
    onProgress: (progress) => {
      if (progress.documents % 200 === 0) inputs.log(`  ${progress.documents}/${progress.totalDocuments} documents, ${progress.tokens} tokens`);
    },
  });
  await markSet(dir, spec, (performance.now() - started) / 1000, `labelCorpus ${spec.mode}`);
  return readSet(name, dir)!;
}
