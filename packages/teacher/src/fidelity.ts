// The fidelity report of a labelled dataset: its decoded rows against the teacher's full
// softmax on a sample of positions, recomputed with the same context the labelling used.
import { FidelityMeter, softmax, type FidelityMeterOptions, type FidelityReport, type LabelledDocument, type SparseRow } from '@kd/compress';
import { TeacherError } from './errors.js';
import type { Teacher } from './teacher.js';

export interface MeasureFidelityOptions extends FidelityMeterOptions {
  /** Documents in the stream, when known: the sample is spread evenly across them. */
  totalDocuments?: number;
  /** Documents to measure (default 32). */
  sampleDocuments?: number;
  /**
   * Positions measured per document, from its start (default 256). Keep it at most the labelling
   * window: the first window sees its positions with the context from the document's start,
   * which is what the full forward pass recomputes.
   */
  positionsPerDocument?: number;
}

/**
 * Measures `documents` (decoded rows, e.g. a dataset reader's) against `teacher`'s full softmax
 * at its temperature. The teacher must be the one that labelled them.
 */
export async function measureFidelity(teacher: Teacher, documents: AsyncIterable<LabelledDocument> | Iterable<LabelledDocument>, options: MeasureFidelityOptions = {}): Promise<FidelityReport> {
  const sampleDocuments = options.sampleDocuments ?? 32;
  const positionsPerDocument = Math.min(options.positionsPerDocument ?? 256, teacher.contextLength);
  if (!(Number.isInteger(sampleDocuments) && sampleDocuments >= 1 && Number.isInteger(positionsPerDocument) && positionsPerDocument >= 1)) {
    throw new TeacherError('E_OPTIONS', `sampleDocuments and positionsPerDocument must be whole numbers ≥ 1, got ${sampleDocuments} and ${positionsPerDocument}`);
  }
  const every = options.totalDocuments ? Math.max(1, Math.floor(options.totalDocuments / sampleDocuments)) : 1;
  const meter = new FidelityMeter(options);
  const vocab = teacher.vocabSize;
  const probabilities = new Float32Array(vocab);
  let seen = 0;
  let measured = 0;
  for await (const document of documents) {
    if (seen++ % every !== 0) continue;
    const length = Math.min(document.rows.length, positionsPerDocument);
    if (length === 0) continue;
    const logits = await teacher.forwardLogits(Int32Array.from(document.tokenIds.subarray(0, length)), undefined, 1, length);
    const { offsets, ids, probs, tailMass } = document.rows;
    for (let position = 0; position < length; position++) {
      softmax(logits.subarray(position * vocab, (position + 1) * vocab), teacher.temperature, probabilities);
      const row: SparseRow = { ids: ids.subarray(offsets[position], offsets[position + 1]), probs: probs.subarray(offsets[position], offsets[position + 1]), tailMass: tailMass[position] };
      const next = position + 1 < document.tokenIds.length ? document.tokenIds[position + 1] : undefined;
      meter.add(probabilities, row, next);
    }
    if (++measured === sampleDocuments) break;
  }
  return meter.report();
}
