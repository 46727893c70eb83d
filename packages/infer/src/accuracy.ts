// Classification accuracy with per-label precision and recall, for reporting a classifier
// (e.g. spam/ham from Model.classify) against gold labels.

export interface LabelStatistics {
  /** Gold examples with this label. */
  support: number;
  /** Of the predictions of this label, the share that was right (0 when never predicted). */
  precision: number;
  /** Of the gold examples with this label, the share predicted right. */
  recall: number;
}

export interface ClassificationReport {
  accuracy: number;
  correct: number;
  total: number;
  /** Gold and predicted labels, sorted. */
  labels: Record<string, LabelStatistics>;
}

export function classificationAccuracy(predictions: readonly string[], gold: readonly string[]): ClassificationReport {
  if (predictions.length !== gold.length) {
    throw new RangeError(`classificationAccuracy needs one gold label per prediction; got ${predictions.length} predictions and ${gold.length} gold labels`);
  }
  const names = [...new Set([...gold, ...predictions])].sort();
  const labels: Record<string, LabelStatistics> = {};
  let correct = 0;
  for (let i = 0; i < gold.length; i++) if (predictions[i] === gold[i]) correct++;
  for (const name of names) {
    let support = 0;
    let predicted = 0;
    let hits = 0;
    for (let i = 0; i < gold.length; i++) {
      if (gold[i] === name) support++;
      if (predictions[i] === name) predicted++;
      if (gold[i] === name && predictions[i] === name) hits++;
    }
    labels[name] = { support, precision: predicted ? hits / predicted : 0, recall: support ? hits / support : 0 };
  }
  return { accuracy: gold.length ? correct / gold.length : 0, correct, total: gold.length, labels };
}
