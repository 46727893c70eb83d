// Offline labelling as a library call: the teacher reads a corpus once and its compressed
// distributions go to a resumable Parquet dataset. This owns what every caller (the CLI,
// benchmarks, a script) would otherwise repeat: the manifest header from the teacher, skipping
// what a killed run already stored, counting, progress and the summary.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { datasetStats, openDataset, openDatasetWriter, type DatasetStats, type ManifestPart } from '@kd/codec-parquet';
import { validateSpec } from '@kd/compress';
import { loadTeacher } from '@kd/teacher';
import { readCorpus, type CorpusDocument } from '@kd/text';
import { PipelineError } from './errors.js';
import { describeOptionsIssue } from './issues.js';
import { labelOptionsSchema, type LabelOptions, type LabelOptionsInput } from './label-options.js';
import { checkStoredDocuments, corpusFileList, labelSource, resumeRefusal, sourceDifferences, type CorpusSelection, type LabelSource, type StoredCheck } from './resume-contract.js';
import { parseShard, shardFolderName, shardKeys, shardOfKey, type Shard } from './shard.js';

export interface LabelStart {
  /** The dataset folder written: `out`, or with a shard its folder under `out`. */
  out: string;
  shard?: Shard;
  /** Documents of the corpus (after the task filter and limit). */
  totalDocuments: number;
  /** Documents an earlier run already stored (0 for a new dataset). */
  storedDocuments: number;
  /** Parts found missing (deleted because damaged) and the parts after them: labelled again. */
  relabelled: readonly string[];
}

export interface LabelProgress {
  /** Documents stored so far, earlier runs included. */
  documents: number;
  totalDocuments: number;
  /** Tokens labelled by this run. */
  tokens: number;
  /** Seconds of this run. */
  seconds: number;
}

export interface LabelHooks {
  /** Called once the corpus is counted, before the first document is labelled. */
  onStart?: (start: LabelStart) => void;
  /** Called after every stored document. */
  onProgress?: (progress: LabelProgress) => void;
}

export interface LabelSummary extends DatasetStats {
  /** The dataset folder written: `out`, or with a shard its folder under `out`. */
  out: string;
  shard?: Shard;
  /** Documents an earlier run had stored; this run labelled the rest. */
  resumedDocuments: number;
  /** Tokens labelled by this run. */
  labelledTokens: number;
  seconds: number;
  tokensPerSecond: number;
}

function parseLabelOptions(input: LabelOptionsInput): LabelOptions {
  const parsed = labelOptionsSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) throw new PipelineError('E_OPTIONS', `label options: ${describeOptionsIssue(parsed.error.issues[0], labelOptionsSchema)}`);
  return parsed.data;
}

/** The parts a dataset folder already lists, after checking that this run may continue them. */
async function checkResume(out: string, source: LabelSource, selection: CorpusSelection): Promise<{ parts: readonly ManifestPart[]; total: number; stored: number; selection?: StoredCheck['selection'] }> {
  let parts: readonly ManifestPart[] = [];
  let stored: Record<string, unknown> | undefined;
  if (existsSync(join(out, 'manifest.json'))) {
    const { manifest } = await openDataset(out, { allowIncomplete: true, verify: false });
    if (manifest.members) {
      throw new PipelineError(
        'E_RESUME_MISMATCH',
        `${out} is a merged dataset of ${manifest.members.length} shards, not one labelling run; label a shard with \`shard\` under it, or label into a new \`out\` folder`,
      );
    }
    parts = manifest.parts;
    stored = manifest.source;
    if (parts.length > 0) {
      const differences = sourceDifferences(manifest.source, source);
      if (differences.length > 0) throw resumeRefusal(out, differences);
    }
  }
  const check = await checkStoredDocuments(selection, parts);
  if (check.mismatch) throw resumeRefusal(out, [`from another corpus: ${check.mismatch.part.file} does not match this \`corpus\` (${check.mismatch.reason})`]);
  const before = (stored as Partial<LabelSource> | undefined)?.selection;
  if (before && check.selection && (before.documents !== check.selection.documents || before.documentsSha256 !== check.selection.documentsSha256)) {
    // Every shard took its share of one selection; a shard resumed on another would not add up with the rest.
    throw resumeRefusal(out, [
      `from a corpus selection of ${before.documents} documents with other content (this \`corpus\`, \`tasks\` and \`limit\` select ${check.selection.documents}); all shards of a dataset must label the same corpus`,
    ]);
  }
  return { parts, total: check.total, stored: check.stored, ...(check.selection ? { selection: check.selection } : {}) };
}

/** Refuses to put shard folders into a folder that is a dataset of its own. */
function checkShardRoot(root: string): void {
  if (!existsSync(join(root, 'manifest.json'))) return;
  let manifest: { members?: unknown };
  try {
    manifest = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8')) as { members?: unknown };
  } catch {
    manifest = {};
  }
  if (!manifest.members) {
    throw new PipelineError('E_OPTIONS', `\`out\` ${root} is a dataset of its own (it has a manifest.json); with \`shard\`, \`out\` is the root folder that holds the shards' folders: choose another one`);
  }
}

/**
 * Labels `corpus` with `teacher` into the dataset folder `out`, resuming what is there. A
 * resume must use the same corpus (file list and stored documents) and the same row-changing
 * settings (`tasks`, `limit`, `window`, `stride`); the header fields (teacher, tokenizer,
 * temperature, compression, quantization) are checked by the codec's writer.
 */
export async function labelCorpus(input: LabelOptionsInput, hooks: LabelHooks = {}): Promise<LabelSummary> {
  const options = parseLabelOptions(input);
  const teacherDir = resolve(options.teacher);
  if (!existsSync(options.corpus)) {
    throw new PipelineError('E_CORPUS', `\`corpus\` ${options.corpus} does not exist; pass a .jsonl or .txt file or a folder of them`);
  }
  const spec = options.compression;
  const shard = options.shard === undefined ? undefined : parseShard(options.shard);
  const key = shard ? await shardKeys(options.corpus) : undefined;
  const inShard = shard && key ? (document: CorpusDocument) => shardOfKey(key(document.id), shard.count) === shard.index : () => true;
  if (shard) checkShardRoot(options.out);
  const out = shard ? join(options.out, shardFolderName(shard)) : options.out;
  const selection: CorpusSelection = { corpus: options.corpus, tasks: options.tasks, limit: options.limit, ...(shard && key ? { shard: { shard, key } } : {}) };
  const corpusOptions = { limit: options.limit, tasks: options.tasks };
  const source: LabelSource = labelSource(await corpusFileList(options.corpus), options, shard);
  // Checked before the writer opens the folder, which marks a complete dataset as in progress.
  const before = await checkResume(out, source, selection);
  if (before.selection) source.selection = { ...before.selection, shardDocuments: before.total };
  const teacher = await loadTeacher(teacherDir, {
    temperature: options.temperature,
    topK: spec.mode === 'fixed' ? spec.k : spec.mode === 'sampled' ? 1 : spec.kMax,
    threads: options.threads,
    device: options.device,
  });
  try {
    validateSpec(spec, teacher.vocabSize);
    const writer = await openDatasetWriter(
      out,
      {
        teacher: { id: basename(teacherDir), sha256: teacher.modelSha256 },
        tokenizer: { sha256: teacher.tokenizerSha256 },
        vocabSize: teacher.vocabSize,
        temperature: options.temperature,
        compression: spec,
        corpus: { path: options.corpus },
        source: source as unknown as Record<string, unknown>,
      },
      { rowsPerPart: options.rowsPerPart, resume: true, ...(options.quantization ? { quantization: options.quantization } : {}) },
    );
    const resumeFrom = writer.resumeFrom;
    let { total: totalDocuments, stored: storedDocuments } = before;
    const listedUpTo = before.parts.length > 0 ? before.parts.at(-1)!.documents[1] + 1 : 0;
    if (resumeFrom !== listedUpTo) {
      // The writer adopted a part a killed run had written but not yet listed: check it too.
      const { manifest } = await openDataset(out, { allowIncomplete: true, verify: false });
      const check = await checkStoredDocuments(selection, manifest.parts);
      if (check.mismatch) throw resumeRefusal(out, [`from another corpus: ${check.mismatch.part.file} does not match this \`corpus\` (${check.mismatch.reason})`]);
      ({ total: totalDocuments, stored: storedDocuments } = check);
    }
    hooks.onStart?.({ out, ...(shard ? { shard } : {}), totalDocuments, storedDocuments, relabelled: writer.relabelled });
    const pending = async function* (): AsyncGenerator<CorpusDocument> {
      for await (const document of readCorpus(options.corpus, corpusOptions)) {
        if (document.index >= resumeFrom && inShard(document)) yield document;
      }
    };
    let documents = storedDocuments;
    let tokens = 0;
    const started = performance.now();
    const labelOptions = { spec, batchSize: options.batchSize, batchTokens: options.batchTokens, window: options.window, stride: options.stride };
    for await (const document of teacher.label(pending(), labelOptions)) {
      await writer.append(document);
      documents++;
      tokens += document.tokenIds.length;
      hooks.onProgress?.({ documents, totalDocuments, tokens, seconds: (performance.now() - started) / 1000 });
    }
    await writer.close();
    const seconds = (performance.now() - started) / 1000;
    const stats = await datasetStats(out);
    return { out, ...(shard ? { shard } : {}), resumedDocuments: storedDocuments, labelledTokens: tokens, seconds, tokensPerSecond: tokens / Math.max(seconds, 1e-9), ...stats };
  } finally {
    await teacher.close();
  }
}
