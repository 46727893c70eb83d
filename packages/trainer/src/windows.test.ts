import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openBatchStream } from './batches.js';
import { loadTokenizer } from '@kd/text';
import { devCorpus, teacherTokenizer } from './test-fixtures.js';
import { WindowSampler, epochOrder, windowCount } from './windows.js';

describe('epochOrder', () => {
  it('is a permutation, the same for the same seed and epoch, different across epochs', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 0, max: 50 }), (count, seed, epoch) => {
        const order = epochOrder(count, seed, epoch);
        expect(Array.from(order).sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, index) => index));
        expect(epochOrder(count, seed, epoch)).toEqual(order);
        if (count >= 20) expect(epochOrder(count, seed, epoch + 1)).not.toEqual(order);
      }),
    );
  });
});

describe('WindowSampler', () => {
  it('covers every window once per epoch, each window shifted by one for the targets', () => {
    const stream = Int32Array.from({ length: 101 }, (_, index) => index);
    const sampler = new WindowSampler(stream, { sequenceLength: 10, batchSize: 2, seed: 7 });
    expect(sampler.windows).toBe(windowCount(101, 10));
    expect(sampler.windows).toBe(10);
    const starts: number[] = [];
    for (let position = 0; position < 5; position++) {
      const { tokens, epoch } = sampler.batchAt(position);
      expect(epoch).toBe(0);
      for (let row = 0; row < 2; row++) {
        const window = tokens.subarray(row * 11, row * 11 + 11);
        // Contiguous stream slice of 11 tokens starting on a window boundary.
        expect(window[0] % 10).toBe(0);
        expect(Array.from(window)).toEqual(Array.from({ length: 11 }, (_, index) => window[0] + index));
        starts.push(window[0]);
      }
    }
    expect(starts.sort((a, b) => a - b)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(sampler.batchAt(5).epoch).toBe(1);
    // A fresh sampler (a resumed run) gives the same batch for the same position.
    expect(new WindowSampler(stream, { sequenceLength: 10, batchSize: 2, seed: 7 }).batchAt(3).tokens).toEqual(sampler.batchAt(3).tokens);
  });
});

describe('openBatchStream (data worker)', () => {
  it('tokenizes the corpus in a worker, frames documents with BOS/EOS, and resumes at a position', async () => {
    const { roles } = await loadTokenizer(teacherTokenizer);
    expect(roles.bos).toBe(1);
    expect(roles.eos).toBe(2);
    const options = {
      corpus: devCorpus,
      limit: 40,
      tokenizerPath: teacherTokenizer,
      sequenceLength: 16,
      batchSize: 3,
      seed: 11,
      startPosition: 0,
      bosId: roles.bos,
      eosId: roles.eos!,
    };
    const stream = await openBatchStream(options);
    expect(stream.documents).toBe(40);
    expect(stream.windows).toBe(windowCount(stream.tokens, 16));
    const first = [await stream.next(), await stream.next(), await stream.next()];
    await stream.close();
    expect(first.map((batch) => batch.position)).toEqual([0, 1, 2]);
    expect(first[0].tokens.length).toBe(3 * 17);
    const all = first.flatMap((batch) => Array.from(batch.tokens));
    expect(all.every((id) => id >= 0 && id < 32000)).toBe(true);
    const resumed = await openBatchStream({ ...options, startPosition: 2 });
    const again = await resumed.next();
    await resumed.close();
    expect(again.position).toBe(2);
    expect(again.tokens).toEqual(first[2].tokens);
  });

  it('refuses a corpus shorter than one window', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'kd-windows-'));
    try {
      const { writeFile } = await import('node:fs/promises');
      await writeFile(join(folder, 'tiny.jsonl'), JSON.stringify({ text: 'hi' }) + '\n');
      await expect(
        openBatchStream({ corpus: join(folder, 'tiny.jsonl'), tokenizerPath: teacherTokenizer, sequenceLength: 64, batchSize: 1, seed: 0, startPosition: 0, eosId: 2 }),
      ).rejects.toMatchObject({ code: 'E_DATA' });
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
