import { describe, expect, it } from 'vitest';
import { packBatches } from './batches.js';

const document = (length: number) => ({ tokenIds: new Uint32Array(length).fill(3) });

describe('packBatches with a token budget', () => {
  it('keeps batch × longest window within batchTokens, lets a longer window run alone, and covers every window once in order', async () => {
    const documents = [40, 10, 10, 90, 5, 5, 5, 5, 60, 200].map(document);
    const seen: { document: number; start: number }[] = [];
    let batches = 0;
    for await (const packed of packBatches(documents, { batchSize: 16, batchTokens: 100, window: 128, stride: 64, padId: 0 })) {
      if (packed.slots.length === 0) continue;
      batches++;
      const computed = packed.padded.batch * packed.padded.sequence;
      if (packed.slots.length > 1) expect(computed).toBeLessThanOrEqual(100);
      for (const slot of packed.slots) seen.push({ document: documents.indexOf(slot.document), start: slot.window.start });
    }
    expect(seen.map((slot) => slot.document)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9]);
    // Without the budget the same windows fit in one batch of 16.
    let unbounded = 0;
    for await (const packed of packBatches(documents, { batchSize: 16, window: 128, stride: 64, padId: 0 })) if (packed.slots.length > 0) unbounded++;
    expect(unbounded).toBe(1);
    expect(batches).toBeGreaterThan(3);
  });
});
