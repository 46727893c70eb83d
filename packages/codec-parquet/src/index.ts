// Public API of @kd/codec-parquet: write, read, verify and summarize labelled datasets.
export { openDatasetWriter, type DatasetWriter, type DatasetWriterOptions } from './writer.js';
export { openDataset, datasetStats, type DatasetReader, type OpenDatasetOptions, type DatasetStats } from './reader.js';
export { verifyDataset, type VerifyReport, type VerifyProblem } from './verify.js';
export { mergeDatasets, type MergeDatasetsOptions } from './merge.js';
export { formatVersion, type Manifest, type ManifestHeader, type ManifestPart, type ManifestMember } from './manifest.js';
export { quantizationSchemes, defaultQuantization, type QuantizationScheme } from './quantization.js';
export { roundTripRows } from './round-trip.js';
export type { UnitHashOptions } from './units.js';
export { CodecError, type CodecErrorCode } from './errors.js';
export { documentSha256, DocumentsHasher, type DocumentContent } from './document-hash.js';
