// Logits read in JavaScript. onnxruntime-node hands float32 and float64 tensors over as float
// arrays and float16 ones as their raw halves (a Uint16Array); bfloat16 logits are converted
// inside the graph by whoever needs them, not here.

/** The logits types whose values JavaScript can read. */
export type ReadableLogitsType = 'float32' | 'float16' | 'float64';

const readableLogitsTypes: readonly string[] = ['float32', 'float16', 'float64'] satisfies ReadableLogitsType[];

/** Whether `logitsAsFloat32` converts logits of this type. */
export function isReadableLogitsType(type: string): type is ReadableLogitsType {
  return readableLogitsTypes.includes(type);
}

/** IEEE half → single precision, every value exactly. */
function halfToFloat(half: Uint16Array, out: Float32Array): void {
  for (let i = 0; i < half.length; i++) {
    const h = half[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    if (exponent === 0) out[i] = sign * 2 ** -14 * (fraction / 1024);
    else if (exponent === 31) out[i] = fraction ? NaN : sign * Infinity;
    else out[i] = sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
  }
}

/**
 * A logits tensor's data as float32 values: written into `out` when given (it must hold as many
 * values), else into a new array, except float32 data without `out`, which is returned as it is.
 */
export function logitsAsFloat32(type: ReadableLogitsType, data: Float32Array | Uint16Array | Float64Array, out?: Float32Array): Float32Array {
  if (out && out.length !== data.length) throw new RangeError(`logitsAsFloat32: out holds ${out.length} values, the logits ${data.length}`);
  if (type === 'float32' && !out) return data as Float32Array;
  const target = out ?? new Float32Array(data.length);
  if (type === 'float16') halfToFloat(data as Uint16Array, target);
  else target.set(data as Float32Array | Float64Array);
  return target;
}
