// log p(id) under softmax(row), the normalizer computed once per row.

/** log Σ exp(row): the log-normalizer of softmax(row). */
export function logNormalizer(row: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  return max + Math.log(sum);
}
