// Small batches the objective tests share: six rows over ten ids with a missing teacher row, a
// collision and padding; a student that matches its teacher; a teacher and student certain of
// the label; any of them with grouped categories.
import type { SoftTargets, TailTreatment } from './kd-divergence.js';
import type { ObjectiveInput } from './objective-suite.js';

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

export const vocab = 10;
export const rows = 6;
export const width = 4;

/**
 * Six rows over ten ids: row 1 has no teacher row (hard label only), row 2 a collision (two
 * teacher tokens on student id 3), row 4 two entries and padding.
 */
export function sample(tail: TailTreatment, seed = 1): ObjectiveInput {
  const next = random(seed);
  const logits = new Float32Array(rows * vocab).map(() => 3 * (next() - 0.5));
  const labels = Int32Array.from({ length: rows }, () => Math.floor(next() * vocab));
  const ids = new Int32Array(rows * width);
  const probs = new Float32Array(rows * width);
  const residual = new Float32Array(rows);
  const present = new Uint8Array(rows).fill(1);
  present[1] = 0;
  for (let row = 0; row < rows; row++) {
    const rowIds = row === 2 ? [3, 3, 5, 7] : row === 4 ? [8, 2, 8, 8] : [(row + 1) % vocab, (row + 4) % vocab, (row + 6) % vocab, (row + 9) % vocab];
    const raw = row === 4 ? [0.6, 0.3, 0, 0] : [0.4 + next(), 0.3 * next() + 0.05, 0.2 * next() + 0.05, 0.1 * next() + 0.01];
    const kept = raw.reduce((sum, value) => sum + value, 0);
    const tailMass = tail === 'bucket' ? 0.1 + 0.2 * next() : 0;
    for (let k = 0; k < width; k++) {
      ids[row * width + k] = rowIds[k];
      probs[row * width + k] = (raw[k] / kept) * (1 - tailMass);
    }
    residual[row] = tailMass;
  }
  const soft: SoftTargets = { rows, width, ids, probs, residual, present };
  return { logits, rows, vocab, labels, weights: new Float32Array(rows).fill(1), soft };
}

/** The student equals the teacher: logits τ·log p of a full distribution, the teacher its top 4 (+ the rest as a bucket) or all of it. */
export function matchingTeacher(tail: TailTreatment, temperature: number): ObjectiveInput {
  const next = random(9);
  const full = tail === 'bucket' ? width : vocab;
  const logits = new Float32Array(rows * vocab);
  const ids = new Int32Array(rows * full);
  const probs = new Float32Array(rows * full);
  const residual = new Float32Array(rows);
  for (let row = 0; row < rows; row++) {
    const weights = Array.from({ length: vocab }, () => 0.05 + next());
    const sum = weights.reduce((total, value) => total + value, 0);
    const order = weights.map((_, id) => id).sort((a, b) => weights[b] - weights[a]);
    for (let id = 0; id < vocab; id++) logits[row * vocab + id] = temperature * Math.log(weights[id] / sum);
    let kept = 0;
    for (let k = 0; k < full; k++) {
      ids[row * full + k] = order[k];
      probs[row * full + k] = weights[order[k]] / sum;
      kept += probs[row * full + k];
    }
    residual[row] = tail === 'bucket' ? 1 - kept : 0;
  }
  const soft: SoftTargets = { rows, width: full, ids, probs, residual, present: new Uint8Array(rows).fill(1) };
  return { logits, rows, vocab, labels: new Int32Array(rows), weights: new Float32Array(rows).fill(1), soft };
}

/** A teacher certain of the label and a student that is too: the target of α < 1 as well. */
export function certainTeacher(): ObjectiveInput {
  const labels = Int32Array.from({ length: rows }, (_, row) => (row * 3) % vocab);
  const logits = new Float32Array(rows * vocab);
  for (let row = 0; row < rows; row++) logits[row * vocab + labels[row]] = 40;
  const soft: SoftTargets = { rows, width: 1, ids: Int32Array.from(labels), probs: new Float32Array(rows).fill(1), residual: new Float32Array(rows), present: Uint8Array.from({ length: rows }, (_, row) => (row === 1 ? 0 : 1)) };
  return { logits, rows, vocab, labels, weights: new Float32Array(rows).fill(1), soft };
}


/**
 * The same batch with grouped categories: entries paired (0–1, 2–3, …) into one category each,
 * so a category holds one or two distinct ids (repeats follow their first entry), and the
 * teacher's probabilities swapped within each pair. Only a pair's sum is the target, so a
 * student that matched the ungrouped teacher still matches, though no longer id by id.
 */
export function pairedCategories(input: ObjectiveInput): ObjectiveInput {
  const soft = input.soft!;
  const category = new Int32Array(soft.rows * soft.width);
  const probs = soft.probs.slice();
  for (let row = 0; row < soft.rows; row++) {
    for (let k = 0; k < soft.width; k++) {
      category[row * soft.width + k] = k - (k % 2);
      if (k % 2 === 1) [probs[row * soft.width + k - 1], probs[row * soft.width + k]] = [probs[row * soft.width + k], probs[row * soft.width + k - 1]];
    }
  }
  return { ...input, soft: { ...soft, probs, category } };
}
