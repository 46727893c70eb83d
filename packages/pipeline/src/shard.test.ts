import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCorpus } from '@kd/text';
import { parseShard, shardFolderName, shardKeys, shardOfKey } from './shard.js';

const work = mkdtempSync(join(tmpdir(), 'kd-shard-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('parseShard', () => {
  it('reads I/N, and /N with the index from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID', () => {
    expect(parseShard('3/4', {})).toEqual({ index: 3, count: 4 });
    expect(parseShard('/4', { JOB_COMPLETION_INDEX: '2' })).toEqual({ index: 2, count: 4 });
    expect(parseShard('/4', { SLURM_ARRAY_TASK_ID: '1' })).toEqual({ index: 1, count: 4 });
    // Kubernetes' variable first; an explicit index wins over both.
    expect(parseShard('/4', { JOB_COMPLETION_INDEX: '0', SLURM_ARRAY_TASK_ID: '3' })).toEqual({ index: 0, count: 4 });
    expect(parseShard('1/4', { JOB_COMPLETION_INDEX: '0' })).toEqual({ index: 1, count: 4 });
  });

  it('refuses an index at or above the count, a missing index and a malformed value, naming the option', () => {
    expect(() => parseShard('4/4', {})).toThrow(/`shard` 4\/4: index 4 is not below the shard count 4/);
    expect(() => parseShard('/4', { SLURM_ARRAY_TASK_ID: '4' })).toThrow(/index 4 \(from SLURM_ARRAY_TASK_ID\) is not below/);
    expect(() => parseShard('/4', {})).toThrow(/names no index and neither JOB_COMPLETION_INDEX nor SLURM_ARRAY_TASK_ID is set/);
    expect(() => parseShard('/4', { JOB_COMPLETION_INDEX: 'x' })).toThrow(/JOB_COMPLETION_INDEX is "x"/);
    expect(() => parseShard('1/0', {})).toThrow(/count must be at least 1/);
    expect(() => parseShard('1-4', {})).toThrow(/must read I\/N/);
  });

  it('names shard folders with four digits at least', () => {
    expect(shardFolderName({ index: 3, count: 4 })).toBe('shard-0003-of-0004');
    expect(shardFolderName({ index: 12, count: 10001 })).toBe('shard-00012-of-10001');
  });
});

describe('shard assignment', () => {
  it('is sha256 of the key mod count, spreads keys over all shards and does not depend on order', () => {
    // First 8 bytes of sha256("a") = ca978112ca1bbdca.
    expect(shardOfKey('a', 1000)).toBe(Number(0xca978112ca1bbdcan % 1000n));
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[shardOfKey(`doc/${i}`, 4)]!++;
    for (const count of counts) expect(count).toBeGreaterThan(850);
    expect(shardOfKey('doc/17', 4)).toBe(shardOfKey('doc/17', 4));
  });

  it('keys records by their id, and records without one by file:line relative to the corpus, wherever it is mounted', async () => {
    const lines = [JSON.stringify({ id: 'x/1', text: 'one' }), JSON.stringify({ text: 'two' })].join('\n');
    const keysOf = async (corpus: string) => {
      const key = await shardKeys(corpus);
      const keys: string[] = [];
      for await (const document of readCorpus(corpus)) keys.push(key(document.id));
      return keys;
    };
    for (const mount of ['a', 'b']) {
      mkdirSync(join(work, mount, 'sub'), { recursive: true });
      writeFileSync(join(work, mount, 'sub', 'c.jsonl'), lines);
      writeFileSync(join(work, mount, 'd.txt'), 'plain text');
    }
    expect(await keysOf(join(work, 'a'))).toEqual(['d.txt', 'x/1', 'sub/c.jsonl:2']);
    expect(await keysOf(join(work, 'b'))).toEqual(await keysOf(join(work, 'a')));
    expect(await keysOf(`${join(work, 'b')}/`)).toEqual(await keysOf(join(work, 'a')));
    expect(await keysOf(join(work, 'a', 'sub', 'c.jsonl'))).toEqual(['x/1', 'c.jsonl:2']);
  });
});
