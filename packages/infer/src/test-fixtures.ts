// Paths of the shared fixtures for tests and benchmarks, resolved from this file so they work
// from any working directory.
import { fileURLToPath } from 'node:url';

const shared = new URL('../../../../shared/', import.meta.url);

export const teacherDir = fileURLToPath(new URL('fixtures/teacher-llama-13m', shared));
export const teacherModel = fileURLToPath(new URL('fixtures/teacher-llama-13m/model.onnx', shared));
export const tinyWithPastDir = fileURLToPath(new URL('fixtures/tiny-llama-with-past', shared));
export const tinyWithPastModel = fileURLToPath(new URL('fixtures/tiny-llama-with-past/model.onnx', shared));
export const devCorpus = fileURLToPath(new URL('corpus/dev.jsonl', shared));
