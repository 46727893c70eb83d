// What a stored row reads back as, without a file: the quantization of the probabilities and of
// the tail mass applied and undone in memory. A consumer that takes rows straight from a teacher
// (online distillation) sees exactly what it would have read from a dataset.
import type { SparseRows } from '@kd/compress';
import { bytesPerProbability, dequantizeProbabilities, dequantizeTailMass, quantizeProbabilities, quantizeTailMass, type QuantizationScheme } from './quantization.js';

/** The rows as a dataset written with `scheme` gives them back (ids unchanged, probabilities and tail mass quantized). */
export function roundTripRows(rows: SparseRows, scheme: QuantizationScheme): SparseRows {
  const width = bytesPerProbability(scheme);
  const scratch = new Uint8Array(width * Math.max(1, rows.ids.length));
  const probs = new Float32Array(rows.probs.length);
  const tailMass = new Float32Array(rows.length);
  for (let row = 0; row < rows.length; row++) {
    const from = rows.offsets[row];
    const count = rows.offsets[row + 1] - from;
    quantizeProbabilities(scheme, rows.probs, from, count, scratch, 0);
    dequantizeProbabilities(scheme, scratch, 0, count, probs, from);
    tailMass[row] = dequantizeTailMass(quantizeTailMass(rows.tailMass[row]));
  }
  return { length: rows.length, offsets: rows.offsets.slice(), ids: rows.ids.slice(), probs, tailMass };
}
