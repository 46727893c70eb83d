// Splitting a labelling run into shards that any batch system can run side by side: a document
// belongs to shard sha256(key) mod count, where the key is the document's id (for records
// without an id, the reader's `file:line` with the file named relative to the corpus), so the
// assignment depends on neither the position in the corpus nor the path the corpus is mounted
// at, and any shard can be rerun alone with the same result.
import { createHash } from 'node:crypto';
import { basename, join, relative } from 'node:path';
import { corpusFiles } from '@kd/text';
import { PipelineError } from './errors.js';

export interface Shard {
  /** This worker's shard, 0 ≤ index < count. */
  index: number;
  count: number;
}

/** Environment variables that carry a worker's index: Kubernetes Indexed Jobs, Slurm job arrays. */
export const shardIndexVariables = ['JOB_COMPLETION_INDEX', 'SLURM_ARRAY_TASK_ID'] as const;

export const shardPattern = /^(\d*)\/(\d+)$/;

/**
 * Reads `shard` ("I/N", or "/N" to take I from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID).
 * The index counts from 0, as Kubernetes' completion index does; a Slurm array runs `--array=0-(N-1)`.
 */
export function parseShard(text: string, env: Record<string, string | undefined> = process.env): Shard {
  const match = shardPattern.exec(text);
  if (!match) throw new PipelineError('E_OPTIONS', `\`shard\` must read I/N (shard I of N, from 0) or /N (I from ${shardIndexVariables.join(' or ')}); got ${JSON.stringify(text)}`);
  const count = Number(match[2]);
  if (!Number.isSafeInteger(count) || count < 1) throw new PipelineError('E_OPTIONS', `\`shard\` ${text}: the shard count must be at least 1`);
  let index: number;
  let from = '';
  if (match[1] !== '') {
    index = Number(match[1]);
  } else {
    const variable = shardIndexVariables.find((name) => env[name] !== undefined && env[name] !== '');
    if (!variable) {
      throw new PipelineError('E_OPTIONS', `\`shard\` ${text} names no index and neither ${shardIndexVariables.join(' nor ')} is set; pass the index as I/${count}`);
    }
    const value = env[variable]!;
    if (!/^\d+$/.test(value)) throw new PipelineError('E_OPTIONS', `\`shard\` ${text}: ${variable} is ${JSON.stringify(value)}, not a shard index`);
    index = Number(value);
    from = ` (from ${variable})`;
  }
  if (index >= count) {
    throw new PipelineError(
      'E_OPTIONS',
      `\`shard\` ${text}: index ${index}${from} is not below the shard count ${count}; shards count from 0 (a Slurm array runs --array=0-${count - 1})`,
    );
  }
  return { index, count };
}

/** The shard's folder under the output root: shard-0003-of-0004. */
export function shardFolderName(shard: Shard): string {
  const width = Math.max(4, String(shard.count - 1).length);
  return `shard-${String(shard.index).padStart(width, '0')}-of-${String(shard.count).padStart(width, '0')}`;
}

export const shardFolderPattern = /^shard-(\d{4,})-of-(\d{4,})$/;

/** Which of `count` shards a document key belongs to: the first 8 bytes of sha256(key, UTF-8) as an unsigned big-endian integer, mod count. */
export function shardOfKey(key: string, count: number): number {
  const digest = createHash('sha256').update(key, 'utf8').digest();
  return Number(digest.readBigUInt64BE(0) % BigInt(count));
}

/**
 * The shard key of each document of `corpus`: its id, where the id is the corpus reader's
 * `file:line` (or a .txt file's path) with the file written relative to the corpus folder (a
 * single-file corpus: the file's own name), so that the key is the same wherever the corpus is mounted.
 */
export async function shardKeys(corpus: string): Promise<(id: string) => string> {
  const files = await corpusFiles(corpus);
  const single = files.length === 1 && files[0] === corpus;
  const names = new Map(files.map((file) => [file, single ? basename(file) : relative(join(corpus, '.'), file)]));
  return (id) => {
    const direct = names.get(id);
    if (direct !== undefined) return direct;
    const colon = id.lastIndexOf(':');
    if (colon > 0) {
      const name = names.get(id.slice(0, colon));
      if (name !== undefined) return name + id.slice(colon);
    }
    return id;
  };
}
