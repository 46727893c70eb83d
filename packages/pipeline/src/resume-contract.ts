// The resume contract of labelling: a dataset folder records a fingerprint of its corpus (the
// corpus file list, and per part the content hash of the documents it stores) and every
// setting that changes which rows are written. A run that resumes the folder must match all
// of them; otherwise it is refused with what differs, instead of mixing two corpora or two
// windowings in one "complete" dataset.
import { createHash } from 'node:crypto';
import { relative } from 'node:path';
import { documentSha256, DocumentsHasher, type ManifestPart } from '@kd/codec-parquet';
import { corpusFiles, readCorpus, type CorpusTask } from '@kd/text';
import { PipelineError } from './errors.js';
import { shardOfKey, type Shard } from './shard.js';

/** What a labelling run records in the manifest (`source`) and compares on resume. */
export interface LabelSource {
  corpus: { files: number; filesSha256: string };
  /** The settings that change rows, as given (`null`: not given, the default). */
  settings: { tasks: CorpusTask[] | null; limit: number | null; window: number | null; stride: number | null; shard?: Shard };
  /**
   * A sharded run's view of the whole corpus selection (every shard's documents): their count and
   * content hash, and how many of them fall in this shard. `mergeShards` checks that all shards
   * saw the same selection and together hold all of it.
   */
  selection?: { documents: number; documentsSha256: string; shardDocuments: number };
}

export interface CorpusSelection {
  corpus: string;
  tasks?: CorpusTask[];
  limit?: number;
  /** Only the documents of this shard are stored (and counted as the total). */
  shard?: { shard: Shard; key: (id: string) => string };
}

/** The corpus file list (paths relative to the corpus folder; empty for a single file), hashed. */
export async function corpusFileList(corpus: string): Promise<LabelSource['corpus']> {
  const files = (await corpusFiles(corpus)).map((file) => relative(corpus, file));
  return { files: files.length, filesSha256: createHash('sha256').update(files.join('\n')).digest('hex') };
}

export function labelSource(corpus: LabelSource['corpus'], options: { tasks?: CorpusTask[]; limit?: number; window?: number; stride?: number }, shard?: Shard): LabelSource {
  return {
    corpus,
    settings: { tasks: options.tasks ?? null, limit: options.limit ?? null, window: options.window ?? null, stride: options.stride ?? null, ...(shard ? { shard } : {}) },
  };
}

const shown = (value: unknown, unset: string) => {
  if (value === null || value === undefined) return unset;
  if (Array.isArray(value)) return value.join(' ');
  if (typeof value === 'object' && 'index' in value && 'count' in value) return `${value.index}/${value.count}`;
  return String(value);
};

const unsetMeaning: Record<keyof LabelSource['settings'], string> = {
  tasks: 'all tasks',
  limit: 'no limit',
  window: 'the default window',
  stride: 'the default stride',
  shard: 'no shard',
};

/** Setting by setting, how this run differs from the one that wrote the dataset. */
export function sourceDifferences(stored: Record<string, unknown> | undefined, current: LabelSource): string[] {
  if (!stored) return ['by a version of kd that recorded no corpus fingerprint, so its documents cannot be checked against this corpus'];
  const differences: string[] = [];
  const storedSettings = (stored.settings ?? {}) as Record<string, unknown>;
  const keys = new Set([...Object.keys(current.settings), ...Object.keys(storedSettings).filter((key) => key in unsetMeaning)]);
  for (const key of keys as Set<keyof LabelSource['settings']>) {
    const then = storedSettings[key] ?? null;
    const now = current.settings[key] ?? null;
    if (JSON.stringify(then) !== JSON.stringify(now)) {
      differences.push(`with \`${key}\` ${shown(then, unsetMeaning[key])} (this run: ${shown(now, unsetMeaning[key])})`);
    }
  }
  const storedCorpus = (stored.corpus ?? {}) as Partial<LabelSource['corpus']>;
  if (storedCorpus.filesSha256 !== current.corpus.filesSha256) {
    differences.push(
      `from a corpus of ${storedCorpus.files ?? '?'} file${storedCorpus.files === 1 ? '' : 's'} with other names (this \`corpus\`: ${current.corpus.files} file${current.corpus.files === 1 ? '' : 's'})`,
    );
  }
  return differences;
}

export interface StoredCheck {
  /** Documents of the corpus selection. */
  total: number;
  /** Of them, the ones the listed parts already hold. */
  stored: number;
  /** The first part whose documents are not this corpus's, if any. */
  mismatch?: { part: ManifestPart; reason: string };
  /** With a shard: the whole selection, every shard's documents (see LabelSource.selection). */
  selection?: { documents: number; documentsSha256: string };
}

/**
 * One pass over the corpus selection: counts its documents and checks that every listed part
 * holds exactly the corpus documents of its index range (same count, same content hash).
 */
export async function checkStoredDocuments(selection: CorpusSelection, parts: readonly ManifestPart[]): Promise<StoredCheck> {
  const resumeFrom = parts.length > 0 ? parts.at(-1)!.documents[1] + 1 : 0;
  let total = 0;
  let stored = 0;
  let partIndex = 0;
  let hasher = new DocumentsHasher();
  let mismatch: StoredCheck['mismatch'];
  const sharded = selection.shard;
  // The whole selection, each document with the key its shard was chosen by: shards of one run agree on it.
  const whole = sharded ? createHash('sha256') : undefined;
  let selected = 0;
  const closePart = () => {
    const part = parts[partIndex]!;
    if (!mismatch) {
      if (hasher.count !== part.documentCount) {
        mismatch = { part, reason: `it holds ${part.documentCount} documents with indices ${part.documents[0]}–${part.documents[1]}; this corpus has ${hasher.count} there` };
      } else if (part.documentsSha256 !== undefined && hasher.digest() !== part.documentsSha256) {
        mismatch = { part, reason: `its documents ${part.documents[0]}–${part.documents[1]} differ in content from this corpus's` };
      }
    }
    partIndex++;
    hasher = new DocumentsHasher();
  };
  for await (const document of readCorpus(selection.corpus, { tasks: selection.tasks, limit: selection.limit })) {
    if (sharded) {
      const key = sharded.key(document.id);
      whole!.update(`${documentSha256(document)} ${JSON.stringify(key)}\n`);
      selected++;
      if (shardOfKey(key, sharded.shard.count) !== sharded.shard.index) continue;
    }
    total++;
    if (document.index >= resumeFrom) continue;
    stored++;
    while (partIndex < parts.length && document.index > parts[partIndex]!.documents[1]) closePart();
    hasher.add(document);
  }
  while (partIndex < parts.length) closePart();
  return {
    total,
    stored,
    ...(mismatch ? { mismatch } : {}),
    ...(whole ? { selection: { documents: selected, documentsSha256: whole.digest('hex') } } : {}),
  };
}

/** The refusal of a resume, saying what differs and what to do. */
export function resumeRefusal(out: string, differences: string[]): PipelineError {
  return new PipelineError(
    'E_RESUME_MISMATCH',
    `cannot resume ${out}: it was labelled ${differences.join('; ')}; resume with the corpus and settings it was labelled with, or label into a new \`out\` folder`,
  );
}
