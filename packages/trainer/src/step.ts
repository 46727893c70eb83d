// One optimizer step's worth of gradient work: forward and backward over each micro-batch,
// summed (gradient accumulation) and averaged, with the loss of the step.
import * as tf from './tf.js';
import type { SoftTargets } from './kd-divergence.js';
import type { Objective } from './loss.js';
import type { LanguageModel } from './model.js';

/** Splits [batch, sequence + 1] windows into model inputs and next-token labels. */
export function splitWindows(tokens: Int32Array, batchSize: number, sequenceLength: number): { inputs: Int32Array; labels: Int32Array } {
  const width = sequenceLength + 1;
  const inputs = new Int32Array(batchSize * sequenceLength);
  const labels = new Int32Array(batchSize * sequenceLength);
  for (let row = 0; row < batchSize; row++) {
    inputs.set(tokens.subarray(row * width, row * width + sequenceLength), row * sequenceLength);
    labels.set(tokens.subarray(row * width + 1, row * width + width), row * sequenceLength);
  }
  return { inputs, labels };
}

/** The scalar loss of one micro-batch (inside a tidy or a gradient scope). */
export function batchLoss(model: LanguageModel, objective: Objective, tokens: Int32Array, batchSize: number, sequenceLength: number, soft?: SoftTargets): tf.Scalar {
  const { inputs, labels } = splitWindows(tokens, batchSize, sequenceLength);
  const logits = model.forward(tf.tensor2d(inputs, [batchSize, sequenceLength], 'int32')).logits;
  return objective.loss(tf.reshape(logits, [batchSize * sequenceLength, model.config.vocabSize]), { labels: tf.tensor1d(labels, 'int32'), soft });
}

export interface Gradients {
  /** Mean loss over the micro-batches. */
  loss: number;
  /** Mean gradient per parameter name; the caller disposes them. */
  gradients: Map<string, tf.Tensor>;
}

/** Forward + backward over every micro-batch, gradients averaged; `soft[i]` are micro-batch i's teacher targets (objective kd). */
export function accumulateGradients(
  model: LanguageModel,
  objective: Objective,
  microBatches: readonly Int32Array[],
  batchSize: number,
  sequenceLength: number,
  soft?: readonly SoftTargets[],
): Gradients {
  const names = [...model.parameters.keys()];
  const variables = names.map((name) => model.parameters.get(name)!);
  const sums = new Map<string, tf.Tensor>();
  let lossSum = 0;
  for (const [index, tokens] of microBatches.entries()) {
    const { value, grads } = tf.variableGrads(() => batchLoss(model, objective, tokens, batchSize, sequenceLength, soft?.[index]), variables);
    lossSum += value.dataSync()[0];
    value.dispose();
    names.forEach((name, index) => {
      const gradient = grads[variables[index].name];
      const previous = sums.get(name);
      if (previous) {
        sums.set(name, tf.add(previous, gradient));
        previous.dispose();
        gradient.dispose();
      } else sums.set(name, gradient);
    });
  }
  const count = microBatches.length;
  if (count > 1) {
    for (const [name, sum] of sums) {
      sums.set(name, tf.div(sum, count));
      sum.dispose();
    }
  }
  return { loss: lossSum / count, gradients: sums };
}
