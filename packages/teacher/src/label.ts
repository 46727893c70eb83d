// Labelling: runs packed batches through the fast path and turns each position's top-k
// probabilities into a sparse row (cut at p in adaptive mode, tail mass kept), emitting
// documents in corpus order as soon as their last window is done.
import { keptCount, SparseRowsBuilder, type CompressionSpec, type SparseRows } from '@kd/compress';
import { packBatches, type BatchOptions } from './batches.js';
import type { PaddedBatch } from './feeds.js';

export interface LabelOptions {
  /** Which probabilities to keep per position. */
  spec: CompressionSpec;
  /** Windows per model run (default 8). */
  batchSize?: number;
  /** Tokens per window (default min(contextLength, 256)). */
  window?: number;
  /** New positions per window after the first (default window / 2). */
  stride?: number;
  /** Called after every model run: positions labelled, documents finished, seconds taken. */
  onBatch?: (info: { tokens: number; documents: number; seconds: number }) => void;
}

/** Top-k probabilities and ids of every position of a padded batch: [batch, sequence, k]. */
export type TopKRunner = (batch: PaddedBatch, k: number) => Promise<{ probabilities: Float32Array; ids: Int32Array }>;

export interface LabelSettings extends BatchOptions {
  spec: CompressionSpec;
  /** Candidates the fast path returns per position. */
  k: number;
  onBatch?: LabelOptions['onBatch'];
}

interface Pending<D> {
  document: D;
  windowsLeft: number;
  rows: SparseRowsBuilder;
}

/** Labels tokenized documents; yields each with its rows, in input order. */
export async function* labelTokenized<D extends { tokenIds: Uint32Array }>(
  documents: AsyncIterable<D> | Iterable<D>,
  run: TopKRunner,
  settings: LabelSettings,
): AsyncGenerator<{ document: D; rows: SparseRows }> {
  const { spec, k } = settings;
  // Initial capacity only (the builder grows): adaptive rows usually keep far fewer than kMax.
  const expectedKept = spec.mode === 'fixed' ? spec.k : Math.min(spec.kMax, 2 * spec.kMin + 8);
  const queue: Pending<D>[] = [];
  const pendingOf = new Map<D, Pending<D>>();
  for await (const packed of packBatches(documents, settings)) {
    for (const { document, windows } of packed.opened) {
      const length = document.tokenIds.length;
      const pending = { document, windowsLeft: windows, rows: new SparseRowsBuilder(length, length * expectedKept) };
      queue.push(pending);
      pendingOf.set(document, pending);
    }
    if (packed.slots.length > 0) {
      const started = performance.now();
      const { padded } = packed;
      const { probabilities, ids } = await run(padded, k);
      let tokens = 0;
      let finished = 0;
      packed.slots.forEach((slot, row) => {
        const pending = pendingOf.get(slot.document)!;
        const { start, end, labelFrom } = slot.window;
        for (let position = labelFrom; position < end; position++) {
          const base = (row * padded.sequence + position - start) * k;
          const count = keptCount(probabilities, base, k, spec);
          let kept = 0;
          for (let i = base; i < base + count; i++) kept += probabilities[i];
          pending.rows.push(ids, probabilities, base, count, Math.max(0, 1 - kept));
        }
        tokens += end - labelFrom;
        if (--pending.windowsLeft === 0) finished++;
      });
      settings.onBatch?.({ tokens, documents: finished, seconds: (performance.now() - started) / 1000 });
    }
    while (queue.length > 0 && queue[0].windowsLeft === 0) {
      const done = queue.shift()!;
      pendingOf.delete(done.document);
      yield { document: done.document, rows: done.rows.build() };
    }
  }
}
