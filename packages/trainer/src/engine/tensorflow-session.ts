// Runs a micro-batch on TensorFlow.js: the student of model.ts with the engine's weights, the
// loss of the objective (loss.ts / kd-loss.ts, hand-written logits gradients like the
// onnxruntime graph's) and the gradient of every weight from tf.variableGrads, as typed arrays.
// It has the shape of the onnxruntime TrainingSession, so the engine's accumulation, clipping,
// AdamW and checkpoints are one code for both.
import * as tf from '../tf.js';
import type { ModelConfig } from '../config.js';
import { createDistillationObjective } from '../kd-loss.js';
import type { DistillationSettings, SoftTargets } from '../kd-divergence.js';
import { createObjective, type Objective } from '../loss.js';
import { modelFromWeights, type LanguageModel } from '../model.js';
import { registerTrainingGradients } from '../tf-gradients.js';
import type { MicroBatchResult } from './session.js';
import type { ObjectiveBatch } from './objective.js';

/** The objective of a run, as both engines build it. */
export type ObjectiveSpec = { name: 'ce' } | { name: 'kd'; settings: DistillationSettings; width: number };

export function tensorflowObjective(spec: ObjectiveSpec): Objective {
  return spec.name === 'kd' ? createDistillationObjective(spec.settings) : createObjective('ce');
}

export class TensorflowSession {
  private constructor(
    private readonly model: LanguageModel,
    private readonly objective: Objective,
    readonly shape: { batchSize: number; sequenceLength: number; forwardOnly?: boolean },
  ) {}

  /** A session over a model whose weights each `run` sets from the engine's arrays. */
  static create(config: ModelConfig, initial: ReadonlyMap<string, Float32Array>, objective: ObjectiveSpec, shape: { batchSize: number; sequenceLength: number; forwardOnly?: boolean }): TensorflowSession {
    registerTrainingGradients();
    return new TensorflowSession(modelFromWeights(config, initial), tensorflowObjective(objective), shape);
  }

  /** Forward + backward of one micro-batch: inputs and labels int32 [batch × sequence]. */
  async run(weights: ReadonlyMap<string, Float32Array>, inputs: Int32Array, batch: ObjectiveBatch<SoftTargets>): Promise<MicroBatchResult> {
    const { batchSize, sequenceLength } = this.shape;
    const { model, objective } = this;
    const vocab = model.config.vocabSize;
    const names = [...model.parameters.keys()];
    const variables = names.map((name) => model.parameters.get(name)!);
    // The optimizer updates the engine's arrays in place; the variables follow them here.
    tf.tidy(() => {
      for (const [index, name] of names.entries()) variables[index].assign(tf.tensor(weights.get(name)!, variables[index].shape, 'float32'));
    });
    const lossOf = () => {
      const logits = model.forward(tf.tensor2d(inputs, [batchSize, sequenceLength], 'int32')).logits;
      return objective.loss(tf.reshape(logits, [batchSize * sequenceLength, vocab]), {
        labels: tf.tensor1d(batch.labels, 'int32'),
        weights: tf.tensor1d(batch.rowWeights, 'float32'),
        soft: batch.targets,
      });
    };
    if (this.shape.forwardOnly) {
      // Loss only (held-out evaluation): no gradients.
      const value = tf.tidy(lossOf);
      const loss = (await value.data())[0];
      value.dispose();
      return { loss, metrics: {}, gradients: new Map() };
    }
    const { value, grads } = tf.variableGrads(lossOf, variables);
    const loss = (await value.data())[0];
    value.dispose();
    const gradients = new Map<string, Float32Array>();
    for (const [index, name] of names.entries()) {
      const gradient = grads[variables[index].name];
      gradients.set(name, Float32Array.from(gradient.dataSync() as Float32Array));
      gradient.dispose();
    }
    return { loss, metrics: {}, gradients };
  }

  async release(): Promise<void> {
    this.model.dispose();
  }
}
