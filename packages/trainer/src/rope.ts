// Rotary position tables in the Hugging Face Llama convention ("rotate half": the first and
// second halves of each head pair up). Angles are formed in float32 exactly as the exported
// ONNX graph forms them, so the two agree to rounding of cos/sin alone.

/** θ^(−2i/d) for i < d/2, rounded to float32 like the reference implementation. */
export function inverseFrequencies(headSize: number, theta: number): Float32Array {
  const half = headSize / 2;
  const frequencies = new Float32Array(half);
  for (let index = 0; index < half; index++) {
    frequencies[index] = 1 / Math.pow(theta, Math.fround((2 * index) / headSize));
  }
  return frequencies;
}

/** cos and sin tables [count, headSize] for positions start … start + count − 1. */
export function rotaryTables(start: number, count: number, headSize: number, theta: number): { cos: Float32Array; sin: Float32Array } {
  const frequencies = inverseFrequencies(headSize, theta);
  const half = headSize / 2;
  const cos = new Float32Array(count * headSize);
  const sin = new Float32Array(count * headSize);
  for (let row = 0; row < count; row++) {
    const position = start + row;
    for (let index = 0; index < half; index++) {
      const angle = Math.fround(position * frequencies[index]);
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      cos[row * headSize + index] = c;
      cos[row * headSize + half + index] = c;
      sin[row * headSize + index] = s;
      sin[row * headSize + half + index] = s;
    }
  }
  return { cos, sin };
}
