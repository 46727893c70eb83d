// @kd/infer: run an exported kd student or any ONNX causal LM folder: generation with a KV cache,
// streaming, batching, the four text tasks and scoring.
export { loadModel } from './model.js';
export type {
  ClassifyOptions,
  ClassifyResult,
  CodeOptions,
  GenerationResult,
  LabelScore,
  Model,
  ScoreOptions,
  ScoreResult,
  TranslateOptions,
} from './model.js';
export { generateBatchOptionsSchema, generateOptionsSchema, loadModelOptionsSchema, promptOverflowModes } from './options.js';
export type { GenerateBatchOptions, GenerateOptions, LoadModelOptions, PromptOverflow } from './options.js';
export type { FinishReason } from './generation.js';
export type { TextChunk, TextStream } from './text-stream.js';
export type { TokenLogprob, TopLogprob } from './token-logprobs.js';
export { InferError } from './errors.js';
export type { InferErrorCode } from './errors.js';
export { chrF, chrFStatistics, chrFFromStatistics } from './chrf.js';
export type { ChrFOptions, ChrFStatistics } from './chrf.js';
export { classificationAccuracy } from './accuracy.js';
export type { ClassificationReport, LabelStatistics } from './accuracy.js';
