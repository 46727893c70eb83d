// Training objectives. Each objective maps the student's logits for a batch of positions to a
// scalar loss with a hand-written gradient (softmax − target), which is both stable and
// cheaper than differentiating log-softmax op by op. `ce` is next-token cross-entropy; the
// distillation objective (α·τ²·KL(teacher‖student) + (1−α)·CE) plugs in beside it.
import * as tf from '@tensorflow/tfjs';

/** The targets of a batch of positions, flattened to rows. */
export interface LossTargets {
  /** Next-token id per row, int32 [rows]. */
  labels: tf.Tensor1D;
  /** 1 for rows that count, 0 for padding; float32 [rows]. Omitted: every row counts. */
  weights?: tf.Tensor1D;
}

export interface Objective {
  readonly name: string;
  /** logits: [rows, vocab]. Returns the mean loss over weighted rows (a scalar). */
  loss(logits: tf.Tensor2D, targets: LossTargets): tf.Scalar;
}

const weightedCrossEntropy = tf.customGrad((logitsInput, labelsInput, weightsInput, save) => {
  const logits = logitsInput as tf.Tensor2D;
  const labels = labelsInput as tf.Tensor1D;
  const weights = weightsInput as tf.Tensor1D;
  const vocab = logits.shape[1];
  // The wasm OneHot kernel writes zeros when asked for float32 directly; cast from int32.
  const oneHot = tf.cast(tf.oneHot(labels, vocab), 'float32') as tf.Tensor2D;
  const total = tf.maximum(tf.sum(weights), 1e-12);
  const logNormalizer = tf.logSumExp(logits, 1);
  const picked = tf.sum(tf.mul(logits, oneHot), 1);
  const value = tf.div(tf.sum(tf.mul(tf.sub(logNormalizer, picked), weights)), total) as tf.Scalar;
  (save as tf.GradSaveFunc)([logits, oneHot, weights, total]);
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [savedLogits, savedOneHot, savedWeights, savedTotal] = saved;
      const rowScale = tf.reshape(tf.div(tf.mul(savedWeights, dy), savedTotal), [-1, 1]);
      const gradient = tf.mul(tf.sub(tf.softmax(savedLogits), savedOneHot), rowScale);
      return [gradient, tf.zerosLike(labels), tf.zerosLike(savedWeights)];
    },
  };
});

/** Mean next-token cross-entropy in nats over the weighted rows. */
export function crossEntropy(logits: tf.Tensor2D, targets: LossTargets): tf.Scalar {
  const weights = targets.weights ?? tf.onesLike(targets.labels).asType('float32');
  return weightedCrossEntropy(logits, targets.labels, weights) as tf.Scalar;
}

export type ObjectiveName = 'ce';

/** The objective a run trains with, by name (the `--objective` flag). */
export function createObjective(name: ObjectiveName): Objective {
  switch (name) {
    case 'ce':
      return { name: 'ce', loss: crossEntropy };
  }
}
