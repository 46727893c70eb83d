// Public API of @kd/trainer: a Llama-style student in TensorFlow.js, its training loop with
// checkpoints and exact resume, and its export to the Hugging Face ONNX layout.
export { initializeBackend } from './backend.js';
export type { BackendInfo, BackendName, BackendOptions } from './backend.js';
export { resolveModelConfig, parameterCount } from './config.js';
export type { ModelConfig, ModelConfigInput } from './config.js';
export { createModel, modelFromWeights } from './model.js';
export type { LanguageModel, LayerCache, ForwardOptions, ForwardResult, CreateModelOptions } from './model.js';
export { createObjective, crossEntropy } from './loss.js';
export type { Objective, ObjectiveName, LossTargets } from './loss.js';
export { createDistillationObjective, distillationLoss } from './kd-loss.js';
export { distillationLossReference, divergenceRows, reverseKlFloor } from './kd-divergence.js';
export type { DistillationSettings, Divergence, DivergenceTerms, SoftTargets, TailTreatment, ReferenceInput } from './kd-divergence.js';
export { learningRateAt } from './schedule.js';
export type { ScheduleOptions } from './schedule.js';
export { estimateTrainingMemory } from './memory.js';
export type { MemoryEstimate } from './memory.js';
export { train, trainOptionsSchema } from './train.js';
export type { TrainOptionsInput, TrainHooks, TrainResult } from './train.js';
export { formatProgress } from './progress.js';
export type { TrainProgress } from './progress.js';
export { loadCheckpoint } from './checkpoint.js';
export type { LoadedCheckpoint, CheckpointState } from './checkpoint.js';
export { exportModel } from './export.js';
export type { ExportOptions, ExportResult } from './export.js';
export { exportMarkerFile } from './export-target.js';
export { TrainerError } from './errors.js';
export type { TrainerErrorCode } from './errors.js';
