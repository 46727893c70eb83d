// Picking the next token from one row of logits: repetition penalty, then greedy (temperature 0)
// or temperature → top-k → top-p → min-p and a draw from what is left. Scratch buffers are
// allocated once per sampler; the full vocabulary is never sorted.
import type { Random } from './random.js';

export interface SamplingSettings {
  /** 0 = greedy. */
  temperature: number;
  /** 0 = off. */
  topK: number;
  /** 1 = off. */
  topP: number;
  /** 0 = off. */
  minP: number;
  /** 1 = off. */
  repetitionPenalty: number;
}

/** Token ids a sequence has seen (prompt and generated), for the repetition penalty. */
export class SeenTokens {
  private readonly flags: Uint8Array;
  private list: Uint32Array;
  count = 0;
  constructor(vocabSize: number) {
    this.flags = new Uint8Array(vocabSize);
    this.list = new Uint32Array(64);
  }
  add(id: number): void {
    if (id >= this.flags.length || this.flags[id]) return;
    this.flags[id] = 1;
    if (this.count === this.list.length) {
      const grown = new Uint32Array(this.list.length * 2);
      grown.set(this.list);
      this.list = grown;
    }
    this.list[this.count++] = id;
  }
  ids(): Uint32Array {
    return this.list.subarray(0, this.count);
  }
}

export class Sampler {
  private readonly weights: Float32Array;
  private readonly candidates: Int32Array;
  private readonly settings: SamplingSettings;
  private readonly random: Random;
  constructor(vocabSize: number, settings: SamplingSettings, random: Random) {
    this.settings = settings;
    this.random = random;
    const greedy = settings.temperature === 0;
    this.weights = new Float32Array(greedy ? 0 : vocabSize);
    this.candidates = new Int32Array(greedy ? 0 : vocabSize);
  }

  /**
   * The next token for `row` (modified in place by the penalty and by `banned`, which holds ids
   * that may not come now, e.g. EOS before minNewTokens).
   */
  pick(row: Float32Array, seen: SeenTokens | undefined, banned: readonly number[] | undefined): number {
    const { temperature, repetitionPenalty } = this.settings;
    if (seen && repetitionPenalty !== 1) {
      const ids = seen.ids();
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i];
        if (id >= row.length) continue;
        const value = row[id];
        row[id] = value > 0 ? value / repetitionPenalty : value * repetitionPenalty;
      }
    }
    if (banned) for (const id of banned) if (id < row.length) row[id] = -Infinity;
    if (temperature === 0) return argmax(row);
    return this.draw(row);
  }

  private draw(row: Float32Array): number {
    const { temperature, topK, topP, minP } = this.settings;
    const vocab = row.length;
    let max = -Infinity;
    for (let i = 0; i < vocab; i++) if (row[i] > max) max = row[i];
    if (max === -Infinity) return argmax(row);
    const weights = this.weights;
    const inverse = 1 / temperature;
    let total = 0;
    for (let i = 0; i < vocab; i++) {
      const weight = Math.exp((row[i] - max) * inverse);
      weights[i] = weight;
      total += weight;
    }
    // The largest weight is exp(0) = 1, so min-p keeps weights ≥ minP.
    const floor = minP > 0 ? minP : 0;
    const candidates = this.candidates;
    let count: number;
    const limited = topK > 0 && topK < vocab;
    if (limited) {
      count = selectTopK(weights, topK, candidates);
    } else if (topP < 1) {
      count = nucleusCandidates(weights, total, topP, candidates);
    } else {
      count = 0;
      for (let i = 0; i < vocab; i++) if (weights[i] > 0) candidates[count++] = i;
    }
    if (topP < 1 || floor > 0) {
      sortByWeight(candidates, count, weights);
      // top-p is a share of what top-k left, or of the whole distribution without top-k.
      let mass = total;
      if (limited) {
        mass = 0;
        for (let i = 0; i < count; i++) mass += weights[candidates[i]];
      }
      let kept = 0;
      let cumulative = 0;
      for (; kept < count; kept++) {
        const weight = weights[candidates[kept]];
        if (kept > 0 && weight < floor) break;
        cumulative += weight;
        if (cumulative >= topP * mass) {
          kept++;
          break;
        }
      }
      count = Math.max(1, kept);
    }
    let mass = 0;
    for (let i = 0; i < count; i++) mass += weights[candidates[i]];
    let target = this.random() * mass;
    for (let i = 0; i < count; i++) {
      target -= weights[candidates[i]];
      if (target < 0) return candidates[i];
    }
    return candidates[count - 1];
  }
}

export function argmax(row: Float32Array): number {
  let best = 0;
  let bestValue = row[0];
  for (let i = 1; i < row.length; i++) {
    if (row[i] > bestValue) {
      bestValue = row[i];
      best = i;
    }
  }
  return best;
}

/** The k largest weights' ids into `out` (unordered); ties go to the smaller id. */
function selectTopK(weights: Float32Array, k: number, out: Int32Array): number {
  // A min-heap of size k over weights (ties: the larger id is "smaller", so it leaves first).
  let size = 0;
  const less = (a: number, b: number) => weights[a] < weights[b] || (weights[a] === weights[b] && a > b);
  const siftDown = (start: number) => {
    let index = start;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= size) return;
      const right = left + 1;
      const child = right < size && less(out[right], out[left]) ? right : left;
      if (!less(out[child], out[index])) return;
      const swap = out[child];
      out[child] = out[index];
      out[index] = swap;
      index = child;
    }
  };
  for (let id = 0; id < weights.length; id++) {
    if (size < k) {
      out[size] = id;
      let index = size++;
      while (index > 0) {
        const parent = (index - 1) >> 1;
        if (!less(out[index], out[parent])) break;
        const swap = out[parent];
        out[parent] = out[index];
        out[index] = swap;
        index = parent;
      }
    } else if (less(out[0], id)) {
      out[0] = id;
      siftDown(0);
    }
  }
  return size;
}

/**
 * Ids whose weights hold at least `topP` of `total`, found without sorting the vocabulary: every
 * id above a threshold, lowering the threshold until the kept mass reaches topP. Everything left
 * out weighs less than everything kept, so the nucleus lies within.
 */
function nucleusCandidates(weights: Float32Array, total: number, topP: number, out: Int32Array): number {
  for (let threshold = 1e-2; ; threshold *= 1e-2) {
    let count = 0;
    let mass = 0;
    const floor = threshold < 1e-30 ? 0 : threshold;
    for (let i = 0; i < weights.length; i++) {
      const weight = weights[i];
      if (weight >= floor && weight > 0) {
        out[count++] = i;
        mass += weight;
      }
    }
    if (mass >= topP * total || floor === 0) return count;
  }
}

/** Sorts out[0..count) by weight, largest first, ties by smaller id. */
function sortByWeight(out: Int32Array, count: number, weights: Float32Array): void {
  const view = out.subarray(0, count);
  view.sort((a, b) => weights[b] - weights[a] || a - b);
}
