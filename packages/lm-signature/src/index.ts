// Public API of @kd/lm-signature: what a causal LM's ONNX graph asks for and gives back, read
// from a neutral description of its inputs and outputs, and its logits as float32 values.
export { readCausalLMSignature } from './signature.js';
export type { CausalLMSignature, CacheInput, IdInput, IdTensorType, CacheTensorType, LogitsTensorType, ReadSignatureOptions } from './signature.js';
export type { GraphDescription, GraphTensor } from './graph.js';
export { cacheShapeHints } from './hints.js';
export type { CacheShapeConfig, CacheShapeHints } from './hints.js';
export { isReadableLogitsType, logitsAsFloat32 } from './logits.js';
export type { ReadableLogitsType } from './logits.js';
export { SignatureError } from './errors.js';
export type { SignatureErrorCode } from './errors.js';
