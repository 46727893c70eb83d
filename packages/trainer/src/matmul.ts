// Matrix products whose gradients use only plain (untransposed) matMul calls. The wasm
// backend's matMul with transpose flags runs 10–40× slower than the plain one, and the
// built-in gradient of matMul uses those flags; an explicit transpose followed by a plain
// product made a training step about 5× faster there.
import * as tf from '@tensorflow/tfjs';

function swapLastTwo(x: tf.Tensor): tf.Tensor {
  const rank = x.rank;
  const permutation = [...Array(rank).keys()];
  permutation[rank - 2] = rank - 1;
  permutation[rank - 1] = rank - 2;
  return tf.transpose(x, permutation);
}

/** Sums a broadcast gradient back down to the shape of the operand it belongs to. */
function reduceToShape(gradient: tf.Tensor, shape: number[]): tf.Tensor {
  if (gradient.rank === shape.length && gradient.shape.every((size, axis) => size === shape[axis])) return gradient;
  const leading = gradient.rank - shape.length;
  let reduced = leading > 0 ? tf.sum(gradient, [...Array(leading).keys()]) : gradient;
  const axes: number[] = [];
  shape.forEach((size, axis) => {
    if (size === 1 && reduced.shape[axis] !== 1) axes.push(axis);
  });
  if (axes.length > 0) reduced = tf.sum(reduced, axes, true);
  return reduced;
}

const productWithPlainGradient = tf.customGrad((a, b, save) => {
  const left = a as tf.Tensor;
  const right = b as tf.Tensor;
  (save as tf.GradSaveFunc)([left, right]);
  return {
    value: tf.matMul(left, right),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [savedLeft, savedRight] = saved;
      return [
        reduceToShape(tf.matMul(dy, swapLastTwo(savedRight)), savedLeft.shape),
        reduceToShape(tf.matMul(swapLastTwo(savedLeft), dy), savedRight.shape),
      ];
    },
  };
});

const productWithRightTransposed = tf.customGrad((a, b, save) => {
  const left = a as tf.Tensor;
  const right = b as tf.Tensor;
  (save as tf.GradSaveFunc)([left, right]);
  return {
    value: tf.matMul(left, swapLastTwo(right)),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [savedLeft, savedRight] = saved;
      return [
        reduceToShape(tf.matMul(dy, savedRight), savedLeft.shape),
        reduceToShape(tf.matMul(swapLastTwo(dy), savedLeft), savedRight.shape),
      ];
    },
  };
});

/** a · b for rank ≥ 2 operands (batch dimensions broadcast). */
export function matMul<T extends tf.Tensor>(a: T, b: tf.Tensor): T {
  return productWithPlainGradient(a, b) as T;
}

/** a · bᵀ (bᵀ swaps the last two dimensions of b). */
export function matMulTransposed<T extends tf.Tensor>(a: T, b: tf.Tensor): T {
  return productWithRightTransposed(a, b) as T;
}
