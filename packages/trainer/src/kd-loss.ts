// The distillation objective on the TensorFlow.js engine: α·τ²·D(teacher ‖ student at τ) +
// (1 − α)·CE where a position has a teacher row, CE alone where it has none. The gradient is
// written by hand like cross-entropy's: the softmax the loss needs anyway, scaled per row,
// plus a sparse correction at the ≤ K ids of each row (and the label), added in the engine;
// no dense [rows, vocab] target exists on the JavaScript side. The per-row math is
// kd-divergence.ts, shared with the float64 reference the tests check this against.
import * as tf from './tf.js';
import { divergenceRows, type DistillationSettings, type SoftTargets } from './kd-divergence.js';
import { crossEntropy, softmaxCrossEntropyGradient, type LossTargets, type Objective } from './loss.js';

/** log Σexp over each row, from the softmax: at the largest logit m, p(m) = 1/Σexp(x − m). */
function logNormalizerOf(flatLogits: tf.Tensor1D, probabilities: tf.Tensor2D, rowStarts: tf.Tensor1D): tf.Tensor1D {
  const [rows, vocab] = probabilities.shape;
  const top = tf.add(tf.argMax(probabilities, 1), rowStarts);
  return tf.sub(tf.gather(flatLogits, top), tf.log(tf.gather(tf.reshape(probabilities, [rows * vocab]), top))) as tf.Tensor1D;
}

function entryIndices(targets: SoftTargets, vocab: number): Int32Array {
  const { rows, width, ids } = targets;
  const flat = new Int32Array(rows * width);
  for (let row = 0; row < rows; row++) {
    for (let k = 0; k < width; k++) flat[row * width + k] = row * vocab + ids[row * width + k];
  }
  return flat;
}

function checkTargets(targets: SoftTargets, rows: number, vocab: number): void {
  if (targets.rows !== rows || targets.ids.length !== rows * targets.width || targets.probs.length !== rows * targets.width) {
    throw new RangeError(`soft targets for ${targets.rows} rows × ${targets.width} entries do not fit logits of ${rows} rows`);
  }
  for (let index = 0; index < targets.ids.length; index++) {
    const id = targets.ids[index];
    if (id < 0 || id >= vocab) throw new RangeError(`soft target id ${id} is outside the student vocabulary [0, ${vocab})`);
  }
}

/** The distillation loss of a batch: mean over weighted rows. Without `targets.soft` it is cross-entropy. */
export function distillationLoss(logits: tf.Tensor2D, targets: LossTargets, settings: DistillationSettings): tf.Scalar {
  const soft = targets.soft;
  if (!soft) return crossEntropy(logits, targets);
  const [rows, vocab] = logits.shape;
  checkTargets(soft, rows, vocab);
  const { alpha, temperature } = settings;
  const weights = targets.weights ?? tf.cast(tf.onesLike(targets.labels), 'float32');
  const indices = entryIndices(soft, vocab);

  const objective = tf.customGrad((logitsInput, labelsInput, weightsInput, save) => {
    const input = logitsInput as tf.Tensor2D;
    const labels = labelsInput as tf.Tensor1D;
    const rowStarts = tf.range(0, rows * vocab, vocab, 'int32') as tf.Tensor1D;
    const flatLogits = tf.reshape(input, [rows * vocab]) as tf.Tensor1D;
    const probabilities = tf.softmax(input);
    const logNormalizer = logNormalizerOf(flatLogits, probabilities, rowStarts);
    const hard = tf.sub(logNormalizer, tf.gather(flatLogits, tf.add(labels, rowStarts))).dataSync();
    let scaledProbabilities = probabilities;
    let scaledFlat = flatLogits;
    let scaledNormalizer = logNormalizer;
    if (temperature !== 1) {
      const scaled = tf.div(input, temperature) as tf.Tensor2D;
      scaledProbabilities = tf.softmax(scaled);
      scaledFlat = tf.reshape(scaled, [rows * vocab]) as tf.Tensor1D;
      scaledNormalizer = logNormalizerOf(scaledFlat, scaledProbabilities, rowStarts);
    }
    const entries = tf.tensor1d(indices, 'int32');
    const studentProbs = tf.gather(tf.reshape(scaledProbabilities, [rows * vocab]), entries).dataSync();
    const studentLogProbs = new Float64Array(tf.gather(scaledFlat, entries).dataSync());
    const normalizers = scaledNormalizer.dataSync();
    for (let row = 0; row < rows; row++) {
      for (let k = 0; k < soft.width; k++) studentLogProbs[row * soft.width + k] -= normalizers[row];
    }
    const terms = divergenceRows(soft, studentProbs, studentLogProbs, settings);
    const rowWeights = (weightsInput as tf.Tensor1D).dataSync();
    let weightSum = 0;
    for (let row = 0; row < rows; row++) weightSum += rowWeights[row];
    weightSum = Math.max(weightSum, 1e-12);
    let value = 0;
    for (let row = 0; row < rows; row++) {
      const present = soft.present[row] === 1;
      value += (rowWeights[row] / weightSum) * (present ? (1 - alpha) * hard[row] + alpha * temperature * temperature * terms.value[row] : hard[row]);
    }
    (save as tf.GradSaveFunc)(temperature !== 1 ? [probabilities, labels, scaledProbabilities] : [probabilities, labels]);
    return {
      value: tf.scalar(value),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedProbabilities, savedLabels, savedScaled] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D | undefined];
        const upstream = dy.dataSync()[0];
        const hardScale = new Float32Array(rows);
        const softDense = new Float32Array(rows);
        const labelIds = savedLabels.dataSync();
        const updateIndices: number[] = [];
        const updates: number[] = [];
        for (let row = 0; row < rows; row++) {
          const scale = (upstream * rowWeights[row]) / weightSum;
          const present = soft.present[row] === 1;
          hardScale[row] = present ? scale * (1 - alpha) : scale;
          if (!present) continue;
          // ∂/∂logits = (1/τ)·∂/∂(logits/τ): α·τ²·(1/τ) = α·τ per unit of D's gradient.
          const softScale = scale * alpha * temperature;
          softDense[row] = softScale * terms.dense[row];
          for (let k = 0; k < soft.width; k++) {
            const coefficient = terms.sparse[row * soft.width + k];
            if (coefficient === 0) continue;
            updateIndices.push(indices[row * soft.width + k]);
            updates.push(softScale * coefficient);
          }
        }
        let gradient: tf.Tensor2D;
        if (savedScaled === undefined) {
          // One softmax: (hard + soft)·q − hard·onehot in the fused kernel; its onehot is
          // scaled by the combined factor, so the soft share is given back at the label.
          const combined = new Float32Array(rows);
          for (let row = 0; row < rows; row++) {
            combined[row] = hardScale[row] + softDense[row];
            if (softDense[row] !== 0) {
              updateIndices.push(row * vocab + labelIds[row]);
              updates.push(softDense[row]);
            }
          }
          gradient = softmaxCrossEntropyGradient(savedProbabilities, savedLabels, tf.tensor1d(combined));
        } else {
          const hardGradient = softmaxCrossEntropyGradient(savedProbabilities, savedLabels, tf.tensor1d(hardScale));
          gradient = tf.add(hardGradient, tf.mul(savedScaled, tf.reshape(tf.tensor1d(softDense), [rows, 1])));
        }
        if (updates.length > 0) {
          // scatterND adds repeated indices (an id that is also the label).
          const correction = tf.scatterND(tf.tensor2d(Int32Array.from(updateIndices), [updateIndices.length, 1], 'int32'), tf.tensor1d(Float32Array.from(updates)), [rows * vocab]);
          gradient = tf.add(gradient, tf.reshape(correction, [rows, vocab]));
        }
        return [gradient, tf.zerosLike(savedLabels), tf.zerosLike(weights)];
      },
    };
  });
  return objective(logits, targets.labels, weights) as tf.Scalar;
}

/** The `kd` objective: distillation where `targets.soft` is given, cross-entropy where it is not. */
export function createDistillationObjective(settings: DistillationSettings): Objective {
  return { name: 'kd', loss: (logits, targets) => distillationLoss(logits, targets, settings) };
}
