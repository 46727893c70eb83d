// Packs the windows of consecutive documents into right-padded batches, streaming: a batch is
// handed out as soon as it is full, so memory holds one batch plus the documents it touches.
import type { PaddedBatch } from './feeds.js';
import { planWindows, type DocumentWindow } from './windows.js';

export interface BatchOptions {
  /** Most windows per batch. */
  batchSize: number;
  /**
   * Most positions one run computes, padding included (batch × longest window): windows of
   * short documents share a batch, a long window runs with fewer beside it. Unbounded when left out.
   */
  batchTokens?: number;
  window: number;
  stride: number;
  /** Id written into padding positions (masked out; any valid id works). */
  padId: number;
}

export interface WindowSlot<D> {
  document: D;
  window: DocumentWindow;
}

export interface PackedBatch<D> {
  /** batch = slots.length; may be 0 when the batch only announces empty documents. */
  padded: PaddedBatch;
  slots: WindowSlot<D>[];
  /** Documents first seen since the previous batch, in order, with how many windows each has. */
  opened: { document: D; windows: number }[];
}

function pad<D extends { tokenIds: Uint32Array }>(slots: WindowSlot<D>[], padId: number): PaddedBatch {
  let sequence = 0;
  for (const slot of slots) sequence = Math.max(sequence, slot.window.end - slot.window.start);
  const ids = new Int32Array(slots.length * sequence).fill(padId);
  const mask = new Uint8Array(slots.length * sequence);
  slots.forEach((slot, row) => {
    const { start, end } = slot.window;
    ids.set(slot.document.tokenIds.subarray(start, end), row * sequence);
    mask.fill(1, row * sequence, row * sequence + end - start);
  });
  return { batch: slots.length, sequence, ids, mask };
}

export async function* packBatches<D extends { tokenIds: Uint32Array }>(
  documents: AsyncIterable<D> | Iterable<D>,
  options: BatchOptions,
): AsyncGenerator<PackedBatch<D>> {
  let slots: WindowSlot<D>[] = [];
  let opened: PackedBatch<D>['opened'] = [];
  let longest = 0;
  for await (const document of documents) {
    const windows = planWindows(document.tokenIds.length, options.window, options.stride);
    opened.push({ document, windows: windows.length });
    for (const window of windows) {
      const length = window.end - window.start;
      if (slots.length > 0 && options.batchTokens !== undefined && (slots.length + 1) * Math.max(longest, length) > options.batchTokens) {
        yield { padded: pad(slots, options.padId), slots, opened };
        slots = [];
        opened = [];
        longest = 0;
      }
      slots.push({ document, window });
      longest = Math.max(longest, length);
      if (slots.length === options.batchSize) {
        longest = 0;
        yield { padded: pad(slots, options.padId), slots, opened };
        slots = [];
        opened = [];
      }
    }
  }
  if (slots.length > 0 || opened.length > 0) yield { padded: pad(slots, options.padId), slots, opened };
}
