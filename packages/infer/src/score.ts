// Scoring text with the model: the log-probability of every token given those before it
// (perplexity), and of a continuation given a context (label scores). Texts longer than the
// context are scored in overlapping windows, each token once, with as much history as fits.
import { forwardAll, type Runner } from './forward.js';
import { abortError } from './generation.js';
import { logNormalizer } from './log-softmax.js';

/** log p(ids[t] | ids[..t]) for t in [1, n), windowed by `contextLength`. */
export async function tokenLogProbs(runner: Runner, ids: Uint32Array, contextLength: number, signal?: AbortSignal): Promise<Float64Array> {
  const n = ids.length;
  const logProbs = new Float64Array(Math.max(0, n - 1));
  const stride = Math.max(1, Math.floor(contextLength / 2));
  const vocab = runner.vocabSize;
  let done = 1;
  while (done < n) {
    if (signal?.aborted) throw abortError(signal);
    const end = Math.min(n, done === 1 ? contextLength : done + stride);
    const start = Math.max(0, end - contextLength);
    const window = ids.subarray(start, end);
    const logits = await forwardAll(runner, window, [window.length], window.length);
    for (let t = done; t < end; t++) {
      const row = logits.subarray((t - 1 - start) * vocab, (t - start) * vocab);
      logProbs[t - 1] = row[ids[t]] - logNormalizer(row);
    }
    done = end;
  }
  return logProbs;
}

/**
 * Σ log p over each row's continuation, rows right-padded into one batch (one run per row when
 * the model has no attention mask): rows[i] = tokens, continuationStarts[i] = first scored index.
 */
export async function continuationLogProbs(runner: Runner, rows: readonly Uint32Array[], continuationStarts: readonly number[]): Promise<Float64Array> {
  const vocab = runner.vocabSize;
  const totals = new Float64Array(rows.length);
  const groups = runner.signature.attentionMask ? [rows.map((_, i) => i)] : rows.map((_, i) => [i]);
  for (const group of groups) {
    const sequence = Math.max(...group.map((i) => rows[i].length));
    const ids = new Uint32Array(group.length * sequence);
    group.forEach((i, b) => ids.set(rows[i], b * sequence));
    const logits = await forwardAll(
      runner,
      ids,
      group.map((i) => rows[i].length),
      sequence,
    );
    group.forEach((i, b) => {
      const row = rows[i];
      let total = 0;
      for (let t = continuationStarts[i]; t < row.length; t++) {
        const values = logits.subarray((b * sequence + t - 1) * vocab, (b * sequence + t) * vocab);
        total += values[row[t]] - logNormalizer(values);
      }
      totals[i] = total;
    });
  }
  return totals;
}
