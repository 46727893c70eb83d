// The student as the public API creates it: `createModel` and `modelFromWeights` of model.ts
// typed as a StudentModel (sizes and weights), so @kd/trainer's declarations carry no
// TensorFlow.js types; the forward pass with tensors stays internal.
import type { ModelConfig, ModelConfigInput } from './config.js';
import { createModel, modelFromWeights, type CreateModelOptions, type StudentModel } from './model.js';

/** A freshly initialized student (weights from `seed`), e.g. to export untrained. */
export function createStudentModel(config: ModelConfigInput | ModelConfig, options: CreateModelOptions = {}): StudentModel {
  return createModel(config, options);
}

/** A student with the given weights (checkpoint layout: projections input-major). */
export function studentModelFromWeights(config: ModelConfigInput | ModelConfig, weights: ReadonlyMap<string, Float32Array>): StudentModel {
  return modelFromWeights(config, weights);
}
