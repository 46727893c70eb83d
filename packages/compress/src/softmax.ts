// Logits → probabilities at a temperature, the "first probability matrix" row that selection reads.

import { CompressError } from './errors.js';

/**
 * Numerically stable softmax of one row: subtracts the maximum before exponentiating so that
 * large logits cannot overflow. `out` may be `logits` itself (computed in place).
 *
 * @throws CompressError E_NONFINITE when a logit is NaN or ±Infinity (a masked logit must be a
 *   large negative finite number such as -1e9), E_INPUT for an empty row, a temperature that is
 *   not a positive finite number, or an `out` of another length.
 */
export function softmax(logits: Float32Array, temperature = 1, out?: Float32Array): Float32Array {
  const length = logits.length;
  if (length === 0) {
    throw new CompressError('E_INPUT', 'softmax: expected at least one logit, got an empty row; pass one row of vocabulary-size logits');
  }
  if (!(typeof temperature === 'number' && temperature > 0 && Number.isFinite(temperature))) {
    throw new CompressError('E_INPUT', `softmax: temperature must be a finite number > 0, got ${String(temperature)}; pass e.g. 1 or 2`);
  }
  const target = out ?? new Float32Array(length);
  if (target.length !== length) {
    throw new CompressError('E_INPUT', `softmax: out has length ${target.length}, expected ${length} (the length of logits); pass an output row of the same length`);
  }

  let maximum = -Infinity;
  let finiteCheck = 0;
  for (let i = 0; i < length; i++) {
    const value = logits[i];
    // Adding every value once is cheaper than a branch per element and turns any NaN or ±Infinity into a non-finite total.
    finiteCheck += value;
    if (value > maximum) maximum = value;
  }
  if (!Number.isFinite(finiteCheck)) throwNonFinite(logits);

  const scale = 1 / temperature;
  let sum = 0;
  for (let i = 0; i < length; i++) {
    const value = Math.exp((logits[i] - maximum) * scale);
    target[i] = value;
    // Sum the stored (float32-rounded) values so the normalized row sums to 1 as closely as float32 allows.
    sum += target[i];
  }
  const inverse = 1 / sum;
  for (let i = 0; i < length; i++) target[i] *= inverse;
  return target;
}

function throwNonFinite(logits: Float32Array): never {
  // Only called when the float64 total is non-finite; float32 values cannot overflow a float64
  // sum of any practical length, so some logit itself is NaN or ±Infinity.
  const index = logits.findIndex((value) => !Number.isFinite(value));
  throw new CompressError(
    'E_NONFINITE',
    `softmax: logits[${index}] is ${logits[index]}, expected a finite number; check the model output (fp16 overflow?) and mask with a large negative finite value such as -1e9 instead of -Infinity`,
  );
}
