// Public API of @kd/trainer: a Llama-style student, its training loop (onnxruntime engine when
// onnxruntime-node is installed, else TensorFlow.js) with checkpoints and exact resume, and its
// export to the Hugging Face ONNX layout. No TensorFlow.js type appears here: tfjs-core's
// declarations need global types (Long) that a strict consumer does not load.
export { initializeBackend } from './backend.js';
export type { BackendInfo, BackendName, BackendOptions } from './backend.js';
export { resolveModelConfig, parameterCount } from './config.js';
export type { ModelConfig, ModelConfigInput } from './config.js';
export { createStudentModel as createModel, studentModelFromWeights as modelFromWeights } from './student.js';
export type { StudentModel, StudentWeight, CreateModelOptions } from './model.js';
export { distillationLossReference, divergenceRows, reverseKlFloor } from './kd-divergence.js';
export type { DistillationSettings, Divergence, DivergenceTerms, SoftTargets, TailTreatment, ReferenceInput } from './kd-divergence.js';
export { learningRateAt } from './schedule.js';
export type { ScheduleOptions } from './schedule.js';
export { estimateTrainingMemory } from './memory.js';
export type { MemoryEstimate } from './memory.js';
export { train, trainOptionsSchema, studentShapeSchema } from './train.js';
export type { TrainOptionsInput, TrainHooks, TrainResult, TrainInputs, EngineInfo } from './train.js';
export type { EvalPoint } from './held-out.js';
export { TeacherBatchSampler, studentPart } from './kd-batches.js';
export type { TeacherRowSource, TeacherBatch, TeacherBatchOptions, StudentEncoder, StudentPart } from './kd-batches.js';
export { writeTarget, emptyTargets, narrowTargets, targetWidth } from './kd-targets.js';
export { distillationOptionsShape } from './kd-options.js';
export { formatProgress } from './progress.js';
export type { TrainProgress } from './progress.js';
export { loadCheckpoint } from './checkpoint.js';
export type { LoadedCheckpoint, CheckpointState } from './checkpoint.js';
export { exportModel } from './export.js';
export type { ExportResult } from './export.js';
export { exportOptionsSchema, type ExportOptions } from './export-options.js';
export { exportMarkerFile } from './export-target.js';
export { TrainerError } from './errors.js';
export type { TrainerErrorCode } from './errors.js';
