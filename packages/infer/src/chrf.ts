// chrF (Popović 2015), as sacreBLEU 2 computes it by default: character n-grams of orders 1–6
// with whitespace removed, n-gram counts summed over the corpus, precision and recall averaged
// over the orders both sides have, then F-beta with beta 2, on a 0–100 scale.

export interface ChrFOptions {
  /** Highest character n-gram order (default 6). */
  charOrder?: number;
  /** Weight of recall over precision (default 2). */
  beta?: number;
}

/** [hypothesis n-grams, reference n-grams, matches] per order, flattened. */
export type ChrFStatistics = number[];

function characterNgrams(text: string, order: number): Map<string, number>[] {
  // Code points, not UTF-16 units, as Python strings count them.
  const characters = Array.from(text.split(/\s+/).join(''));
  const counters: Map<string, number>[] = [];
  for (let n = 1; n <= order; n++) {
    const counts = new Map<string, number>();
    for (let i = 0; i + n <= characters.length; i++) {
      const gram = characters.slice(i, i + n).join('');
      counts.set(gram, (counts.get(gram) ?? 0) + 1);
    }
    counters.push(counts);
  }
  return counters;
}

/** The n-gram statistics of one hypothesis against its reference (add them up for a corpus). */
export function chrFStatistics(hypothesis: string, reference: string, options: ChrFOptions = {}): ChrFStatistics {
  const order = options.charOrder ?? 6;
  const hypothesisGrams = characterNgrams(hypothesis, order);
  const referenceGrams = characterNgrams(reference, order);
  const statistics: number[] = [];
  for (let n = 0; n < order; n++) {
    let hypothesisCount = 0;
    let referenceCount = 0;
    let matches = 0;
    for (const count of hypothesisGrams[n].values()) hypothesisCount += count;
    for (const [gram, count] of referenceGrams[n]) {
      referenceCount += count;
      matches += Math.min(count, hypothesisGrams[n].get(gram) ?? 0);
    }
    statistics.push(hypothesisCount, referenceCount, matches);
  }
  return statistics;
}

/** chrF of summed statistics, 0–100. */
export function chrFFromStatistics(statistics: ChrFStatistics, options: ChrFOptions = {}): number {
  const beta = options.beta ?? 2;
  const factor = beta * beta;
  let precision = 0;
  let recall = 0;
  let orders = 0;
  for (let i = 0; i + 2 < statistics.length; i += 3) {
    const [hypothesisCount, referenceCount, matches] = [statistics[i], statistics[i + 1], statistics[i + 2]];
    if (hypothesisCount > 0 && referenceCount > 0) {
      precision += matches / hypothesisCount;
      recall += matches / referenceCount;
      orders++;
    }
  }
  if (orders === 0) return 0;
  precision /= orders;
  recall /= orders;
  if (precision + recall === 0) return 0;
  return (100 * (1 + factor) * precision * recall) / (factor * precision + recall);
}

/** Corpus chrF of hypotheses against one reference each, 0–100. */
export function chrF(hypotheses: readonly string[], references: readonly string[], options: ChrFOptions = {}): number {
  if (hypotheses.length !== references.length) {
    throw new RangeError(`chrF needs one reference per hypothesis; got ${hypotheses.length} hypotheses and ${references.length} references`);
  }
  let total: number[] | undefined;
  for (let i = 0; i < hypotheses.length; i++) {
    const statistics = chrFStatistics(hypotheses[i], references[i], options);
    if (!total) total = statistics;
    else for (let j = 0; j < statistics.length; j++) total[j] += statistics[j];
  }
  return total ? chrFFromStatistics(total, options) : 0;
}
