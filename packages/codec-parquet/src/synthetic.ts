// Synthetic labelled documents shaped like real teacher output (Zipf-like ids, descending
// probabilities, word-piece spans), seeded so tests and benchmarks are reproducible.
import type { LabelledDocument, SparseRows } from '@kd/compress';
import type { ManifestHeader } from './manifest.js';

/** A small seeded generator (mulberry32): uniform numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const words = ['the', 'of', 'and', 'congress', 'états', 'naïve', 'über', '東京', '数据', '😀', '👩‍💻', 'code', '  ', 'x', 'résumé', 'tab\t', 'line\n'];

export interface SyntheticOptions {
  tokens: number;
  /** Kept entries per row (fixed mode). */
  k: number;
  vocabSize: number;
  /** Number of sparse rows (default: one per token). */
  rows?: number;
  task?: string;
}

/** Rows of `count` positions with `k` distinct Zipf-like ids each and descending probabilities. */
export function syntheticRows(random: () => number, count: number, k: number, vocabSize: number): SparseRows {
  const offsets = new Uint32Array(count + 1);
  const ids = new Uint32Array(count * k);
  const probs = new Float32Array(count * k);
  const tailMass = new Float32Array(count);
  const weights = new Float64Array(k);
  const logVocab = Math.log(vocabSize);
  for (let r = 0; r < count; r++) {
    const base = r * k;
    for (let i = 0; i < k; i++) {
      // Log-uniform ids: small ids (frequent tokens) are much more likely, as in real vocabularies.
      let id: number;
      let fresh: boolean;
      do {
        id = Math.min(vocabSize - 1, Math.floor(Math.exp(random() * logVocab)) - 1);
        fresh = true;
        for (let j = 0; j < i; j++) if (ids[base + j] === id) fresh = false;
      } while (!fresh);
      ids[base + i] = id;
    }
    let sum = 0;
    for (let i = 0; i < k; i++) {
      weights[i] = Math.exp(-i * (0.1 + random() * 0.4)) * (0.5 + random());
      sum += weights[i];
    }
    weights.subarray(0, k).sort().reverse();
    const captured = 0.6 + random() * 0.39;
    let kept = 0;
    for (let i = 0; i < k; i++) {
      probs[base + i] = (weights[i] / sum) * captured;
      kept += probs[base + i];
    }
    tailMass[r] = Math.max(0, 1 - kept);
    offsets[r + 1] = base + k;
  }
  return { length: count, offsets, ids, probs, tailMass };
}

/** A document of word-piece tokens (leading spaces, emoji, CJK, accents) with synthetic rows. */
export function syntheticDocument(index: number, random: () => number, options: SyntheticOptions): LabelledDocument {
  const tokenIds = new Uint32Array(options.tokens);
  const offsets = new Uint32Array(2 * options.tokens);
  let text = '';
  for (let t = 0; t < options.tokens; t++) {
    const word = words[Math.floor(random() * words.length)];
    const piece = random() < 0.7 ? ` ${word}` : word;
    offsets[2 * t] = text.length;
    text += piece;
    offsets[2 * t + 1] = text.length;
    tokenIds[t] = Math.floor(random() * options.vocabSize);
  }
  const rows = syntheticRows(random, options.rows ?? options.tokens, options.k, options.vocabSize);
  const document: LabelledDocument = { index, id: `doc-${index}`, text, tokenIds, offsets, rows };
  if (options.task !== undefined) document.task = options.task;
  return document;
}

/** `count` documents with indices 0 … count − 1, the same for the same seed in every process. */
export function syntheticCorpus(count: number, seed: number, k = 8, vocabSize = 32_000): LabelledDocument[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, index) =>
    syntheticDocument(index, random, { tokens: 5 + Math.floor(random() * 40), k, vocabSize, task: index % 2 === 0 ? 'text' : 'code' }),
  );
}

/** A header for synthetic datasets (tests, benchmarks). */
export const testHeader: ManifestHeader = {
  teacher: { id: 'fixtures/teacher', sha256: 'a'.repeat(64) },
  tokenizer: { sha256: 'b'.repeat(64) },
  vocabSize: 32_000,
  temperature: 1,
  compression: { mode: 'fixed', k: 8 },
};
