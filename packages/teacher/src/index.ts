// Public API of @kd/teacher: load an ONNX causal LM with its tokenizer, read a corpus, and
// stream compressed probabilities per token.
export { loadTeacher } from './teacher.js';
export { measureFidelity, type MeasureFidelityOptions } from './fidelity.js';
export type { Teacher, LoadTeacherOptions, TokenIdArray, AttentionMaskArray } from './teacher.js';
export type { LabelOptions } from './label.js';
export type { TeacherTokenizer, EncodedText } from './tokenizer.js';
export type { ModelSignature, PastInput } from './signature.js';
export { readCorpus, applyTemplate } from './corpus.js';
export type { CorpusDocument, CorpusTask, ReadCorpusOptions } from './corpus.js';
export { TeacherError } from './errors.js';
export type { TeacherErrorCode } from './errors.js';
export { loadTokenizer } from './tokenizer.js';
export { sha256File } from './hash.js';
