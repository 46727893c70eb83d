// Training objectives. Each objective maps the student's logits for a batch of positions to a
// scalar loss with a hand-written gradient (softmax − target), which is both stable and
// cheaper than differentiating log-softmax op by op. `ce` is next-token cross-entropy; the
// distillation objective (α·τ²·KL(teacher‖student) + (1−α)·CE) plugs in beside it.
import * as tf from './tf.js';
import type { SoftTargets } from './kd-divergence.js';
import { hasKernel, SoftmaxCrossEntropyGrad } from './kernels.js';

/** The targets of a batch of positions, flattened to rows. */
export interface LossTargets {
  /** Next-token id per row, int32 [rows]. */
  labels: tf.Tensor1D;
  /** 1 for rows that count, 0 for padding; float32 [rows]. Omitted: every row counts. */
  weights?: tf.Tensor1D;
  /** The teacher's sparse targets over the student vocabulary (objective `kd`); rows without one train on the label. */
  soft?: SoftTargets;
}

export interface Objective {
  readonly name: string;
  /** logits: [rows, vocab]. Returns the mean loss over weighted rows (a scalar). */
  loss(logits: tf.Tensor2D, targets: LossTargets): tf.Scalar;
}

/** (probabilities − onehot(labels)) · rowScale per row: one fused pass where the backend has it. */
export function softmaxCrossEntropyGradient(probabilities: tf.Tensor2D, labels: tf.Tensor1D, rowScale: tf.Tensor1D): tf.Tensor2D {
  if (hasKernel(SoftmaxCrossEntropyGrad)) {
    return tf.engine().runKernel(SoftmaxCrossEntropyGrad, { probabilities, labels, rowScale }) as tf.Tensor2D;
  }
  // The wasm OneHot kernel writes zeros when asked for float32 directly; cast from int32.
  const oneHot = tf.cast(tf.oneHot(labels, probabilities.shape[1]), 'float32');
  return tf.mul(tf.sub(probabilities, oneHot), tf.reshape(rowScale, [-1, 1]));
}

const weightedCrossEntropy = tf.customGrad((logitsInput, labelsInput, weightsInput, save) => {
  const logits = logitsInput as tf.Tensor2D;
  const labels = labelsInput as tf.Tensor1D;
  const weights = weightsInput as tf.Tensor1D;
  const [rows, vocab] = logits.shape;
  const total = tf.maximum(tf.sum(weights), 1e-12);
  const probabilities = tf.softmax(logits);
  // At the largest logit m the softmax is exp(0)/Σexp(x − m) = 1/Σ, so log Σexp(x) = m − log p(m):
  // the normalizer from the softmax the gradient needs anyway, without a second pass of
  // exponentials (wasm's Exp kernel is scalar, several times slower than its Softmax).
  const rowStarts = tf.range(0, rows * vocab, vocab, 'int32');
  const top = tf.add(tf.argMax(probabilities, 1), rowStarts);
  const flatLogits = tf.reshape(logits, [rows * vocab]);
  const logNormalizer = tf.sub(tf.gather(flatLogits, top), tf.log(tf.gather(tf.reshape(probabilities, [rows * vocab]), top)));
  const picked = tf.gather(flatLogits, tf.add(labels, rowStarts));
  const value = tf.div(tf.sum(tf.mul(tf.sub(logNormalizer, picked), weights)), total) as tf.Scalar;
  (save as tf.GradSaveFunc)([probabilities, labels, weights, total]);
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [savedProbabilities, savedLabels, savedWeights, savedTotal] = saved;
      const rowScale = tf.div(tf.mul(savedWeights, dy), savedTotal) as tf.Tensor1D;
      const gradient = softmaxCrossEntropyGradient(savedProbabilities as tf.Tensor2D, savedLabels as tf.Tensor1D, rowScale);
      return [gradient, tf.zerosLike(savedLabels), tf.zerosLike(savedWeights)];
    },
  };
});

/** Mean next-token cross-entropy in nats over the weighted rows. */
export function crossEntropy(logits: tf.Tensor2D, targets: LossTargets): tf.Scalar {
  const weights = targets.weights ?? tf.cast(tf.onesLike(targets.labels), 'float32');
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
