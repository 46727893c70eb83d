// Public API of @kd/teacher: load an ONNX causal LM with its tokenizer (from @kd/text) and
// stream compressed probabilities per token of a corpus (read with @kd/text's readCorpus).
export { loadTeacher } from './teacher.js';
export { measureFidelity, type MeasureFidelityOptions } from './fidelity.js';
export type { Teacher, LoadTeacherOptions, FullLabelOptions, TokenIdArray, AttentionMaskArray } from './teacher.js';
export { identityFold, type DistributionFold } from './full-rows.js';
export type { LabelOptions } from './label.js';
export type { ModelSignature, PastInput } from './signature.js';
export { teacherDevices, type TeacherDevice } from './device.js';
export { TeacherError } from './errors.js';
export type { TeacherErrorCode } from './errors.js';
export { sha256File } from './hash.js';
