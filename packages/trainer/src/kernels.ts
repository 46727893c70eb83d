// Kernels the wasm backend lacks but training needs. `UnsortedSegmentSum` is the gradient of
// the embedding lookup (tf.gather); without it the first backward pass through the embedding fails.
import * as tf from '@tensorflow/tfjs';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

interface UnsortedSegmentSumArguments {
  inputs: { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  backend: WasmBackendLike;
  attrs: { numSegments: number };
}

function unsortedSegmentSum({ inputs, backend, attrs }: UnsortedSegmentSumArguments): tf.TensorInfo {
  const { x, segmentIds } = inputs;
  const segmentCount = segmentIds.shape.reduce((product, size) => product * size, 1);
  const innerShape = x.shape.slice(segmentIds.shape.length);
  const inner = innerShape.reduce((product, size) => product * size, 1);
  const out = backend.makeOutput([attrs.numSegments, ...innerShape], x.dtype);
  const values = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  const sums = backend.typedArrayFromHeap(out);
  sums.fill(0);
  for (let row = 0; row < segmentCount; row++) {
    const segment = ids[row];
    // TensorFlow drops rows whose segment id is out of range; do the same.
    if (segment < 0 || segment >= attrs.numSegments) continue;
    const from = row * inner;
    const to = segment * inner;
    for (let column = 0; column < inner; column++) sums[to + column] += values[from + column];
  }
  return out;
}

/** Registers the missing kernels on the wasm backend (idempotent). */
export function registerWasmKernels(): void {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm') === undefined) {
    tf.registerKernel({
      kernelName: 'UnsortedSegmentSum',
      backendName: 'wasm',
      kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc,
    });
  }
}
