// Compression settings from one teacher pass: rows labelled with probability-descending top-k
// candidates are cut to what a smaller setting keeps (TopK(k) is a prefix of TopK(64), and an
// adaptive row is a prefix of the same list), the tail mass recomputed from what is kept.
import { keptCount, SparseRowsBuilder, type CompressionSpec, type LabelledDocument } from '@kd/compress';

/** The rows `spec` keeps, cut from probability-descending top-k candidate rows. */
export function cutRows(document: LabelledDocument, spec: CompressionSpec): LabelledDocument {
  const { rows } = document;
  const builder = new SparseRowsBuilder(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const start = rows.offsets[i]!;
    const count = keptCount(rows.probs, start, rows.offsets[i + 1]! - start, spec);
    let kept = 0;
    for (let j = 0; j < count; j++) kept += rows.probs[start + j]!;
    builder.push(rows.ids, rows.probs, start, count, Math.max(0, 1 - kept));
  }
  return { ...document, rows: builder.build() };
}
