// Kernels registered on the wasm backend for training, each replacing a slow path measured
// in a training step there:
// - `UnsortedSegmentSum`, the gradient of the embedding lookup, is missing from the backend.
// - Its `Identity` (and `Cast` to the same type) copies the data, and the tape clones every
//   tensor a gradient keeps, so a step copied every saved activation (the logits alone are
//   32 MB); tensors are immutable, so the copy shares the data instead, as the CPU and WebGL
//   backends do.
// - Its matMul runs xnnpack only for one untransposed product; batched or transposed
//   operands take a scalar loop (~1 GFLOP/s, the attention products) and its Transpose is
//   slow on large matrices. `TransposingMatMul` feeds xnnpack one plain product per batch
//   entry, transposing operands in tiles on the way.
// - `Rotary` does the rotary embedding in one pass instead of split, negate, concat, two
//   products and a sum; `SoftmaxCrossEntropyGrad` replaces one-hot, cast, subtract and scale
//   by one scaling and a fix-up of the label entries; `GatherRows` copies embedding rows
//   whole where the backend's Gather goes value by value.
import * as tf from './tf.js';
import { TrainerError } from './errors.js';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object): boolean;
  incRef(dataId: object): void;
}

interface KernelArguments<Inputs, Attributes = Record<string, never>> {
  inputs: Inputs;
  backend: WasmBackendLike;
  attrs: Attributes;
}

/** a·b with optional transposes; operands of rank ≥ 2 with equal batch dimensions (or a batch of one). */
export const TransposingMatMul = 'TrainerTransposingMatMul';
/** Rotary embedding of x [batch, sequence, heads, headSize] with cos/sin tables [sequence, headSize]. */
export const Rotary = 'TrainerRotary';
/** (probabilities − onehot(labels)) · rowScale, row by row. */
export const SoftmaxCrossEntropyGrad = 'TrainerSoftmaxCrossEntropyGrad';
/** Rows of table [rows, width] at int32 ids: [ids, width]. */
export const GatherRows = 'TrainerGatherRows';

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((product, size) => product * size, 1);
}

function floats(backend: WasmBackendLike, info: tf.TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

function unsortedSegmentSum({ inputs, backend, attrs }: KernelArguments<{ x: tf.TensorInfo; segmentIds: tf.TensorInfo }, { numSegments: number }>): tf.TensorInfo {
  const { x, segmentIds } = inputs;
  const segmentCount = sizeOf(segmentIds.shape);
  const innerShape = x.shape.slice(segmentIds.shape.length);
  const inner = sizeOf(innerShape);
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

function sharedIdentity({ inputs, backend }: Pick<KernelArguments<{ x: tf.TensorInfo }>, 'inputs' | 'backend'>): tf.TensorInfo {
  const { x } = inputs;
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

const transposeTile = 64;

/**
 * target[c·rows + r] = source[r·columns + c] for a rows × columns block: 64 × 64 tiles, four
 * source rows at a time so each target row gets four neighbouring values per visit (about 2×
 * faster than one value at a time; 8M values take ~30 ms).
 */
function transposeInto(source: Float32Array, sourceOffset: number, rows: number, columns: number, target: Float32Array, targetOffset: number): void {
  const groupedRows = rows - (rows % 4);
  for (let rowStart = 0; rowStart < groupedRows; rowStart += transposeTile) {
    const rowEnd = Math.min(rowStart + transposeTile, groupedRows);
    for (let columnStart = 0; columnStart < columns; columnStart += transposeTile) {
      const columnEnd = Math.min(columnStart + transposeTile, columns);
      for (let row = rowStart; row < rowEnd; row += 4) {
        const rowOffset = sourceOffset + row * columns;
        for (let column = columnStart; column < columnEnd; column++) {
          const from = rowOffset + column;
          const to = targetOffset + column * rows + row;
          target[to] = source[from];
          target[to + 1] = source[from + columns];
          target[to + 2] = source[from + 2 * columns];
          target[to + 3] = source[from + 3 * columns];
        }
      }
    }
  }
  for (let row = groupedRows; row < rows; row++) {
    for (let column = 0; column < columns; column++) target[targetOffset + column * rows + row] = source[sourceOffset + row * columns + column];
  }
}

/** One operand of the plain product handed to xnnpack: rows × columns per batch entry. */
interface OperandPlan {
  source: tf.TensorInfo;
  /** The stored matrix is columns × rows and must be transposed. */
  transpose: boolean;
  rows: number;
  columns: number;
  batch: number;
}

// Transposing an operand in JavaScript and running the plain product beat the alternative
// (op(b)ᵀ·op(a)ᵀ, then transposing the result) for every product of a training step,
// including the embedding gradient logitsᵀ·hidden: xnnpack is slowest when its right
// operand is large (8000 × 1024 there), which that order would need.
function transposingMatMul({ inputs, backend, attrs }: KernelArguments<{ a: tf.TensorInfo; b: tf.TensorInfo }, { transposeA: boolean; transposeB: boolean }>): tf.TensorInfo {
  const { a, b } = inputs;
  const { transposeA, transposeB } = attrs;
  const [aRows, aColumns] = a.shape.slice(-2);
  const [bRows, bColumns] = b.shape.slice(-2);
  const m = transposeA ? aColumns : aRows;
  const k = transposeA ? aRows : aColumns;
  const n = transposeB ? bRows : bColumns;
  const batchA = sizeOf(a.shape.slice(0, -2));
  const batchB = sizeOf(b.shape.slice(0, -2));
  const batch = Math.max(batchA, batchB);
  const outShape = [...(batchA >= batchB ? a.shape : b.shape).slice(0, -2), m, n];
  const left: OperandPlan = { source: a, transpose: transposeA, rows: m, columns: k, batch: batchA };
  const right: OperandPlan = { source: b, transpose: transposeB, rows: k, columns: n, batch: batchB };
  const plainProduct = tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc;
  const product = (leftInfo: tf.TensorInfo, rightInfo: tf.TensorInfo) =>
    plainProduct({ inputs: { a: leftInfo, b: rightInfo }, backend: backend as unknown as tf.KernelBackend, attrs: { transposeA: false, transposeB: false } }) as tf.TensorInfo;

  // Operands that are already plain and whole go to xnnpack as they are; slices and
  // transposes get a fresh tensor each (xnnpack caches packed weights by tensor id).
  const operand = (plan: OperandPlan, index: number): tf.TensorInfo => {
    if (!plan.transpose && batch === 1) return plan.source;
    const info = backend.makeOutput([1, plan.rows, plan.columns], 'float32');
    const from = floats(backend, plan.source);
    const to = floats(backend, info);
    const size = plan.rows * plan.columns;
    const offset = (plan.batch === 1 ? 0 : index) * size;
    if (plan.transpose) transposeInto(from, offset, plan.columns, plan.rows, to, 0);
    else to.set(from.subarray(offset, offset + size));
    return info;
  };
  const release = (info: tf.TensorInfo, plan: OperandPlan) => {
    if (info !== plan.source) backend.disposeData(info.dataId);
  };

  if (batch === 1) {
    const leftInfo = operand(left, 0);
    const rightInfo = operand(right, 0);
    const result = product(leftInfo, rightInfo);
    release(leftInfo, left);
    release(rightInfo, right);
    return { dataId: result.dataId, shape: outShape, dtype: 'float32' };
  }
  const out = backend.makeOutput(outShape, 'float32');
  for (let index = 0; index < batch; index++) {
    const leftInfo = operand(left, index);
    const rightInfo = operand(right, index);
    const result = product(leftInfo, rightInfo);
    // Views are taken after every allocation: a growing wasm memory detaches older ones.
    floats(backend, out).set(floats(backend, result), index * m * n);
    backend.disposeData(result.dataId);
    release(leftInfo, left);
    release(rightInfo, right);
  }
  return out;
}

function rotary({ inputs, backend }: KernelArguments<{ x: tf.TensorInfo; cos: tf.TensorInfo; sin: tf.TensorInfo }>): tf.TensorInfo {
  const { x, cos, sin } = inputs;
  const [batch, sequence, heads, headSize] = x.shape;
  const half = headSize / 2;
  const out = backend.makeOutput(x.shape, 'float32');
  const values = floats(backend, x);
  const cosines = floats(backend, cos);
  const sines = floats(backend, sin);
  const target = floats(backend, out);
  // x·cos + rotateHalf(x)·sin with rotateHalf([a, b]) = [−b, a]; each product and the sum are
  // rounded to float32 as the separate tensor ops would round them.
  for (let row = 0; row < batch * sequence; row++) {
    const table = (row % sequence) * headSize;
    for (let head = 0; head < heads; head++) {
      const base = (row * heads + head) * headSize;
      for (let index = 0; index < half; index++) {
        const first = values[base + index];
        const second = values[base + half + index];
        target[base + index] = Math.fround(cosines[table + index] * first) - Math.fround(sines[table + index] * second);
        target[base + half + index] = Math.fround(cosines[table + half + index] * second) + Math.fround(sines[table + half + index] * first);
      }
    }
  }
  return out;
}

function softmaxCrossEntropyGrad({ inputs, backend }: KernelArguments<{ probabilities: tf.TensorInfo; labels: tf.TensorInfo; rowScale: tf.TensorInfo }>): tf.TensorInfo {
  const { probabilities, labels, rowScale } = inputs;
  const [rows, vocab] = probabilities.shape;
  // The scaling runs in the backend's SIMD Multiply; only the label entries are then fixed
  // up here, in the product this kernel owns (a JavaScript loop over 8M values costs more).
  const multiply = tf.getKernel('Multiply', 'wasm')!.kernelFunc;
  const column = { dataId: rowScale.dataId, shape: [rows, 1], dtype: rowScale.dtype };
  const out = multiply({ inputs: { a: probabilities, b: column }, backend: backend as unknown as tf.KernelBackend, attrs: {} }) as tf.TensorInfo;
  const values = floats(backend, probabilities);
  const ids = backend.typedArrayFromHeap(labels);
  const scales = floats(backend, rowScale);
  const target = floats(backend, out);
  for (let row = 0; row < rows; row++) {
    const label = ids[row];
    if (label >= 0 && label < vocab) target[row * vocab + label] = Math.fround(values[row * vocab + label] - 1) * scales[row];
  }
  return out;
}

/** Rows of a table [rows, width] picked by int32 ids: one memory copy per id. */
function gatherRows({ inputs, backend }: KernelArguments<{ table: tf.TensorInfo; ids: tf.TensorInfo }>): tf.TensorInfo {
  const { table, ids } = inputs;
  const [tableRows, width] = table.shape;
  const count = sizeOf(ids.shape);
  const positions = backend.typedArrayFromHeap(ids);
  for (let index = 0; index < count; index++) {
    const row = positions[index];
    if (row < 0 || row >= tableRows) {
      throw new TrainerError('E_DATA', `token id ${row} at position ${index} is outside the vocabulary [0, ${tableRows}); use the tokenizer the model was configured for`);
    }
  }
  const out = backend.makeOutput([count, width], 'float32');
  // Views are taken again after the allocation: a growing wasm memory detaches older ones.
  const source = floats(backend, table);
  const rows = backend.typedArrayFromHeap(ids);
  const target = floats(backend, out);
  for (let index = 0; index < count; index++) {
    const row = rows[index];
    target.set(source.subarray(row * width, row * width + width), index * width);
  }
  return out;
}

function register(kernelName: string, kernelFunc: unknown): void {
  tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as tf.KernelFunc });
}

let registered = false;

/** Registers the training kernels on the wasm backend (idempotent). */
export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
  if (tf.getKernel('UnsortedSegmentSum', 'wasm') === undefined) register('UnsortedSegmentSum', unsortedSegmentSum);
  if (tf.getKernel('Identity', 'wasm') !== undefined) tf.unregisterKernel('Identity', 'wasm');
  register('Identity', sharedIdentity);
  const copyingCast = tf.getKernel('Cast', 'wasm');
  if (copyingCast !== undefined) {
    // Gradients of products cast their operands to float32; for float32 that is a copy too.
    tf.unregisterKernel('Cast', 'wasm');
    register('Cast', (args: KernelArguments<{ x: tf.TensorInfo }, { dtype: tf.DataType }>) =>
      args.inputs.x.dtype === args.attrs.dtype ? sharedIdentity(args) : copyingCast.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]),
    );
  }
  register(TransposingMatMul, transposingMatMul);
  register(Rotary, rotary);
  register(SoftmaxCrossEntropyGrad, softmaxCrossEntropyGrad);
  register(GatherRows, gatherRows);
}

/** Whether the active backend has the kernel (the wasm backend after `registerWasmKernels`). */
export function hasKernel(kernelName: string): boolean {
  return tf.getKernel(kernelName, tf.getBackend()) !== undefined;
}
