// Matrix products whose gradients stay fast on the wasm backend. Its built-in matMul is fast
// only for a single untransposed product (xnnpack); batched operands (attention) and the
// transpose flags the built-in gradient uses take a scalar loop 10–40× slower. There the
// products run through `TransposingMatMul` (kernels.ts), which hands xnnpack one plain
// product per batch entry; other backends get tf.matMul with transpose flags.
import * as tf from './tf.js';
import { hasKernel, TransposingMatMul } from './kernels.js';

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

/** The kernel takes equal batch dimensions, or one side with none; other broadcasts use tf.matMul. */
function kernelTakes(a: tf.Tensor, b: tf.Tensor): boolean {
  if (a.rank === 2 || b.rank === 2) return true;
  return a.rank === b.rank && a.shape.slice(0, -2).every((size, axis) => size === b.shape[axis]);
}

function product(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor {
  if (hasKernel(TransposingMatMul) && kernelTakes(a, b)) {
    return tf.engine().runKernel(TransposingMatMul, { a, b }, { transposeA, transposeB }) as tf.Tensor;
  }
  return tf.matMul(a, b, transposeA, transposeB);
}

const plainProduct = tf.customGrad((a, b, save) => {
  const left = a as tf.Tensor;
  const right = b as tf.Tensor;
  (save as tf.GradSaveFunc)([left, right]);
  return {
    value: product(left, right, false, false),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [savedLeft, savedRight] = saved;
      return [
        reduceToShape(product(dy, savedRight, false, true), savedLeft.shape),
        reduceToShape(product(savedLeft, dy, true, false), savedRight.shape),
      ];
    },
  };
});

const productWithRightTransposed = tf.customGrad((a, b, save) => {
  const left = a as tf.Tensor;
  const right = b as tf.Tensor;
  (save as tf.GradSaveFunc)([left, right]);
  return {
    value: product(left, right, false, true),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [savedLeft, savedRight] = saved;
      return [
        reduceToShape(product(dy, savedRight, false, false), savedLeft.shape),
        reduceToShape(product(dy, savedLeft, true, false), savedRight.shape),
      ];
    },
  };
});

/** a · b for rank ≥ 2 operands (batch dimensions broadcast). */
export function matMul<T extends tf.Tensor>(a: T, b: tf.Tensor): T {
  return plainProduct(a, b) as T;
}

/** a · bᵀ (bᵀ swaps the last two dimensions of b). */
export function matMulTransposed<T extends tf.Tensor>(a: T, b: tf.Tensor): T {
  return productWithRightTransposed(a, b) as T;
}
