// Merging the shards of a labelling run (`labelCorpus` with `shard`, one folder per shard under
// one root) into one dataset. Each shard's manifest says which shard it is and what corpus
// selection and settings it took its share of; the merge names a missing or duplicated shard,
// refuses shards of other corpora or settings, and has the codec verify every part and write the
// root's manifest, which lists the shards' parts where they lie.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { datasetStats, mergeDatasets, openDataset, type DatasetStats, type Manifest } from '@kd/codec-parquet';
import { PipelineError } from './errors.js';
import type { LabelSource } from './resume-contract.js';
import { shardFolderName, shardFolderPattern, type Shard } from './shard.js';

export interface MergeSummary extends DatasetStats {
  root: string;
  /** The shard count N of the run. */
  shards: number;
}

interface ShardFolder {
  folder: string;
  manifest: Manifest;
  source: LabelSource;
  shard: Shard;
}

const describe = (value: unknown) => (value === undefined || value === null ? 'none' : JSON.stringify(value));

async function readShardFolders(root: string): Promise<ShardFolder[]> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (cause) {
    throw new PipelineError('E_SHARD_MISSING', `cannot read the shard root ${root}: ${(cause as Error).message}`, { cause });
  }
  const folders = entries.filter((entry) => entry.isDirectory() && shardFolderPattern.test(entry.name)).map((entry) => entry.name).sort();
  if (folders.length === 0) {
    throw new PipelineError('E_SHARD_MISSING', `${root} holds no shard folders (shard-IIII-of-NNNN); label the shards with \`shard\` I/N and \`out\` ${root} first`);
  }
  const shards: ShardFolder[] = [];
  for (const folder of folders) {
    const { manifest } = await openDataset(join(root, folder), { allowIncomplete: true, verify: false });
    const source = manifest.source as Partial<LabelSource> | undefined;
    const shard = source?.settings?.shard;
    if (!source || !shard || !source.selection) {
      throw new PipelineError('E_SHARD_MISMATCH', `${folder} records no shard of a sharded labelling run in its manifest; it was not written by \`labelCorpus\` with \`shard\`: move it out of ${root}`);
    }
    shards.push({ folder, manifest, source: source as LabelSource, shard });
  }
  return shards;
}

/** The shards 0 … N−1, each exactly once, or the refusal that names the missing or duplicated one. */
function checkShardSet(root: string, shards: ShardFolder[]): number {
  const count = shards[0]!.shard.count;
  const other = shards.find((entry) => entry.shard.count !== count);
  if (other) {
    throw new PipelineError(
      'E_SHARD_MISMATCH',
      `${shards[0]!.folder} is one of ${count} shards, ${other.folder} one of ${other.shard.count}: ${root} mixes two splits of the corpus; keep the shards of one split under a root`,
    );
  }
  const byIndex = new Map<number, ShardFolder>();
  for (const entry of shards) {
    const earlier = byIndex.get(entry.shard.index);
    if (earlier) {
      throw new PipelineError(
        'E_SHARD_DUPLICATE',
        `shard ${entry.shard.index} of ${count} is duplicated: ${earlier.folder} and ${entry.folder} both hold it (a copied or renamed folder?); keep one of them (${shardFolderName(entry.shard)}) under ${root}`,
      );
    }
    byIndex.set(entry.shard.index, entry);
  }
  for (const entry of shards) {
    if (entry.folder !== shardFolderName(entry.shard)) {
      throw new PipelineError('E_SHARD_MISMATCH', `${entry.folder} holds shard ${entry.shard.index}/${count}, whose folder is ${shardFolderName(entry.shard)}; rename it back`);
    }
  }
  const missing: number[] = [];
  for (let index = 0; index < count; index++) if (!byIndex.has(index)) missing.push(index);
  if (missing.length > 0) {
    const names = missing.map((index) => `${index} (${shardFolderName({ index, count })})`);
    throw new PipelineError(
      'E_SHARD_MISSING',
      `${root} lacks shard${missing.length > 1 ? 's' : ''} ${names.join(', ')} of ${count}; label ${missing.length > 1 ? 'them' : 'it'} with \`shard\` ${missing[0]}/${count} and the same settings, then merge again`,
    );
  }
  return count;
}

/** Every shard took its share of the same corpus selection with the same row-changing settings. */
function checkSameRun(shards: ShardFolder[]): void {
  const [first, ...rest] = shards;
  const common = (source: LabelSource) => {
    const { shard: _shard, ...settings } = source.settings;
    return { settings, corpus: source.corpus, selection: { documents: source.selection!.documents, documentsSha256: source.selection!.documentsSha256 } };
  };
  const reference = common(first!.source);
  for (const entry of rest) {
    const current = common(entry.source);
    const differences: string[] = [];
    for (const [key, value] of Object.entries(reference.settings)) {
      const now = (current.settings as Record<string, unknown>)[key];
      if (JSON.stringify(value ?? null) !== JSON.stringify(now ?? null)) differences.push(`\`${key}\` ${describe(value)} there, ${describe(now)} here`);
    }
    if (reference.corpus.filesSha256 !== current.corpus.filesSha256) differences.push(`a corpus of other file names (${reference.corpus.files} files there, ${current.corpus.files} here)`);
    if (reference.selection.documentsSha256 !== current.selection.documentsSha256) {
      differences.push(`another corpus selection (${reference.selection.documents} documents there, ${current.selection.documents} here, content differs)`);
    }
    if (differences.length > 0) {
      throw new PipelineError(
        'E_SHARD_MISMATCH',
        `${entry.folder} was labelled from another corpus or with other settings than ${first!.folder}: ${differences.join('; ')}; label every shard with the same corpus and settings`,
      );
    }
  }
  let stored = 0;
  for (const entry of shards) {
    const expected = entry.source.selection!.shardDocuments;
    if (entry.manifest.complete && entry.manifest.totals.documents !== expected) {
      throw new PipelineError('E_SHARD_MISMATCH', `${entry.folder} stores ${entry.manifest.totals.documents} documents; its share of the corpus is ${expected}`);
    }
    stored += expected;
  }
  if (stored !== reference.selection.documents) {
    throw new PipelineError('E_SHARD_MISMATCH', `the shards' shares add up to ${stored} documents; the corpus selection has ${reference.selection.documents}`);
  }
}

/**
 * Merges the shard folders under `root` (written by `labelCorpus` with `shard` and `out` root)
 * into one dataset at `root`: `openDataset(root)` then reads all shards' documents, shard by
 * shard (each in corpus order). Writes only `root/manifest.json`; every shard file stays as it is.
 */
export async function mergeShards(root: string): Promise<MergeSummary> {
  const shards = await readShardFolders(root);
  const count = checkShardSet(root, shards);
  shards.sort((a, b) => a.shard.index - b.shard.index);
  checkSameRun(shards);
  const { shard: _shard, ...settings } = shards[0]!.source.settings;
  const { documents, documentsSha256 } = shards[0]!.source.selection!;
  await mergeDatasets(
    root,
    shards.map((entry) => entry.folder),
    { source: { corpus: shards[0]!.source.corpus, settings, selection: { documents, documentsSha256 }, shards: count } },
  );
  return { root, shards: count, ...(await datasetStats(root)) };
}
