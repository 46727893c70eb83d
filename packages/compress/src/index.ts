// Public API of @kd/compress: keep the probabilities that matter, as sparse rows.

export { CompressError, type CompressErrorCode } from './errors.js';
export { softmax } from './softmax.js';
export { selectTopK } from './topk.js';
export { selectTopP } from './topp.js';
export { selectRow } from './select.js';
export { keptCount } from './kept-count.js';
export { sampleRow, SampledRowAssembler } from './sample.js';
export { createRandom, type Random } from './random.js';
export { describeSpec, validateSpec } from './spec.js';
export { SparseRowsBuilder, rowAt, sliceRows } from './rows.js';
export { capturedMass, klFullToSparse } from './fidelity.js';
export { FidelityMeter, type FidelityMeterOptions, type FidelityReport } from './fidelity-meter.js';
export type { CompressionSpec, LabelledDocument, SampledSpec, SparseRow, SparseRows } from './types.js';
export { compressionSpecSchema, fixedSpecSchema, adaptiveSpecSchema, sampledSpecSchema, hybridSpecSchema, type CompressionSpecInput } from './spec-schema.js';
