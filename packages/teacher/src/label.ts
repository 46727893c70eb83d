// Labelling: runs packed batches through the fast path and turns each position's top-k
// probabilities into a sparse row (cut at p in adaptive mode, tail mass kept), emitting
// documents in corpus order as soon as their last window is done.
import { createRandom, keptCount, SampledRowAssembler, SparseRowsBuilder, type CompressionSpec, type SampledSpec, type SparseRows } from '@kd/compress';
import { packBatches, type BatchOptions } from './batches.js';
import type { PaddedBatch } from './feeds.js';
import { RowFolder, type DistributionFold } from './full-rows.js';

export interface LabelOptions {
  /** Which probabilities to keep per position. */
  spec: CompressionSpec;
  /** Most windows per model run (default 64; `batchTokens` usually binds first). */
  batchSize?: number;
  /** Most positions per model run, padding included (default 2048): bounds the [batch, sequence, vocabulary] logits the graph holds. */
  batchTokens?: number;
  /**
   * Tokens per window (default min(contextLength, 1024)): a document that fits is read in one
   * window, so no position is computed twice.
   */
  window?: number;
  /** New positions per window after the first (default window / 2). */
  stride?: number;
  /** Called after every model run: positions labelled, positions computed (batch × sequence), documents finished, seconds taken. */
  onBatch?: (info: { tokens: number; computed: number; documents: number; seconds: number }) => void;
}

/**
 * Top-k probabilities and ids of every position of a padded batch: [batch, sequence, k]; for a
 * sampled or hybrid spec also the graph's draws [batch·sequence, samples] and, at a proposal
 * temperature ≠ 1, p/q per draw.
 */
export type TopKRunner = (
  batch: PaddedBatch,
  k: number,
) => Promise<{ probabilities: Float32Array; ids: Int32Array; sampleIds?: Int32Array; sampleWeights?: Float32Array }>;

export interface LabelSettings extends BatchOptions {
  spec: CompressionSpec;
  /** Candidates the fast path returns per position. */
  k: number;
  /** The teacher's vocabulary size (no draws exist beyond k candidates when k reaches it). */
  vocabSize: number;
  onBatch?: LabelOptions['onBatch'];
  /**
   * Full-distribution rows: `run` returns the whole softmax ([batch, sequence, vocabSize], k =
   * vocabSize, no ids) and each position becomes one folded row; `spec` is then not consulted.
   */
  fold?: DistributionFold;
}

interface Pending<D> {
  document: D;
  /** Order of the document in this call: the stream of its JavaScript-side draws. */
  ordinal: number;
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
  const expectedKept =
    spec.mode === 'fixed' ? spec.k : spec.mode === 'sampled' ? Math.min(spec.samples, 16) : Math.min(spec.kMax, 2 * spec.kMin + 8) + (spec.mode === 'hybrid' ? spec.samples : 0);
  const folder = settings.fold ? new RowFolder(settings.fold, settings.vocabSize) : undefined;
  const sampler = !folder && (spec.mode === 'sampled' || spec.mode === 'hybrid') ? new DrawAssembler(spec, k, settings.vocabSize) : undefined;
  let ordinal = 0;
  const queue: Pending<D>[] = [];
  const pendingOf = new Map<D, Pending<D>>();
  for await (const packed of packBatches(documents, settings)) {
    for (const { document, windows } of packed.opened) {
      const length = document.tokenIds.length;
      const pending = { document, ordinal: ordinal++, windowsLeft: windows, rows: new SparseRowsBuilder(length, length * (folder ? folder.width : expectedKept)) };
      queue.push(pending);
      pendingOf.set(document, pending);
    }
    if (packed.slots.length > 0) {
      const started = performance.now();
      const { padded } = packed;
      const output = await run(padded, k);
      const { probabilities, ids } = output;
      let tokens = 0;
      let finished = 0;
      packed.slots.forEach((slot, row) => {
        const pending = pendingOf.get(slot.document)!;
        const { start, end, labelFrom } = slot.window;
        for (let position = labelFrom; position < end; position++) {
          const flat = row * padded.sequence + position - start;
          if (folder) {
            folder.push(pending.rows, probabilities, flat * k);
            continue;
          }
          if (sampler) {
            sampler.push(pending.rows, output, flat, pending.ordinal, position);
            continue;
          }
          const base = flat * k;
          const count = keptCount(probabilities, base, k, spec);
          let kept = 0;
          for (let i = base; i < base + count; i++) kept += probabilities[i];
          pending.rows.push(ids, probabilities, base, count, Math.max(0, 1 - kept));
        }
        tokens += end - labelFrom;
        if (--pending.windowsLeft === 0) finished++;
      });
      settings.onBatch?.({ tokens, computed: padded.batch * padded.sequence, documents: finished, seconds: (performance.now() - started) / 1000 });
    }
    while (queue.length > 0 && queue[0].windowsLeft === 0) {
      const done = queue.shift()!;
      pendingOf.delete(done.document);
      yield { document: done.document, rows: done.rows.build() };
    }
  }
}

/**
 * Sampled and hybrid rows from the graph's output. Sampled: the graph's n draws over the whole
 * vocabulary. Hybrid: the adaptive head of the top-k candidates is kept exactly; each of the n
 * tail draws comes, with probability m₁ / (m₁ + m₂), from the candidates after the head (mass
 * m₁, exact probabilities at hand, drawn here) and otherwise is the graph's draw from beyond the
 * candidates (mass m₂ = 1 − Σ top-k). Every draw is weighted by p / r under that mixture r, so the
 * tail estimate stays unbiased.
 */
class DrawAssembler {
  readonly #spec: SampledSpec;
  readonly #k: number;
  readonly #beyondCandidates: boolean;
  readonly #assembler = new SampledRowAssembler();
  readonly #drawIds: Uint32Array;
  readonly #drawWeights: Float64Array;

  constructor(spec: SampledSpec, k: number, vocabSize: number) {
    this.#spec = spec;
    this.#k = k;
    this.#beyondCandidates = k < vocabSize;
    this.#drawIds = new Uint32Array(spec.samples);
    this.#drawWeights = new Float64Array(spec.samples);
  }

  push(rows: SparseRowsBuilder, output: Awaited<ReturnType<TopKRunner>>, flat: number, ordinal: number, position: number): void {
    const spec = this.#spec;
    const k = this.#k;
    const samples = spec.samples;
    const { probabilities, ids, sampleIds, sampleWeights } = output;
    const base = flat * k;
    const drawBase = flat * samples;
    const drawIds = this.#drawIds;
    const drawWeights = this.#drawWeights;
    let headCount = 0;
    if (spec.mode === 'sampled') {
      for (let j = 0; j < samples; j++) {
        drawIds[j] = sampleIds![drawBase + j];
        drawWeights[j] = sampleWeights ? sampleWeights[drawBase + j] : 1;
      }
    } else {
      headCount = keptCount(probabilities, base, k, spec);
      let candidates = 0;
      for (let i = base + headCount; i < base + k; i++) candidates += probabilities[i];
      let top = candidates;
      for (let i = base; i < base + headCount; i++) top += probabilities[i];
      const beyond = this.#beyondCandidates ? Math.max(0, 1 - top) : 0;
      const total = candidates + beyond;
      const random = createRandom(spec.seed, (Math.imul(ordinal, 0x85ebca6b) ^ position) >>> 0);
      for (let j = 0; j < samples; j++) {
        const drawn = sampleIds ? sampleIds[drawBase + j] : -1;
        const fromCandidates = beyond <= 0 || random() * total < candidates || isAmong(ids, base, k, drawn);
        if (fromCandidates && candidates > 0) {
          let target = random() * candidates;
          let at = base + headCount;
          for (; at < base + k - 1; at++) {
            target -= probabilities[at];
            if (target < 0) break;
          }
          drawIds[j] = ids[at];
          drawWeights[j] = total;
        } else if (!fromCandidates) {
          drawIds[j] = drawn;
          drawWeights[j] = sampleWeights ? (sampleWeights[drawBase + j] * total) / beyond : total;
        } else {
          // Nothing outside the head holds mass: no draw is possible.
          drawIds[j] = ids[base];
          drawWeights[j] = 0;
        }
      }
      if (total <= 0) {
        rows.push(ids, probabilities, base, headCount, Math.max(0, 1 - top));
        return;
      }
    }
    const count = this.#assembler.assemble(ids, probabilities, base, headCount, drawIds, drawWeights, 0, samples);
    rows.push(this.#assembler.ids, this.#assembler.probs, 0, count, this.#assembler.tailMass);
  }
}

function isAmong(ids: Int32Array, base: number, k: number, id: number): boolean {
  for (let i = base; i < base + k; i++) if (ids[i] === id) return true;
  return false;
}
