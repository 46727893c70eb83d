// The student: a Llama-style decoder (RMSNorm, rotary positions, SwiGLU MLP, causal
// multi-head attention with optional grouped key/value heads, tied embeddings) in
// TensorFlow.js. Parameters carry Hugging Face Llama names; projection matrices are stored
// input-major ([in, out], the transpose of Hugging Face's [out, in]) so the forward pass
// uses plain matrix products; export transposes them back.
import * as tf from './tf.js';
import { resolveModelConfig, type ModelConfig, type ModelConfigInput } from './config.js';
import { TrainerError } from './errors.js';
import { GatherRows, hasKernel, Rotary } from './kernels.js';
import { matMul, matMulTransposed } from './matmul.js';
import { rotaryTables } from './rope.js';

/** Keys and values of one layer for positions already seen: [batch, keyValueHeads, past, headSize]. */
export interface LayerCache {
  key: tf.Tensor4D;
  value: tf.Tensor4D;
}

export interface ForwardOptions {
  /** Cache from earlier positions; the new tokens continue after them. */
  past?: readonly LayerCache[];
}

export interface ForwardResult {
  /** [batch, sequence, vocabSize] */
  logits: tf.Tensor3D;
  /** Keys and values of past + new positions, one entry per layer. */
  present: LayerCache[];
}

/** A weight as the public API shows it: a tf.Variable inside, described without TensorFlow.js types. */
export interface StudentWeight {
  readonly shape: number[];
  readonly size: number;
  dataSync(): Float32Array | Int32Array | Uint8Array;
}

/**
 * The student as @kd/trainer's public API hands it out: sizes and weights. TensorFlow.js stays
 * inside (its declarations need global types a strict consumer does not load).
 */
export interface StudentModel {
  readonly config: ModelConfig;
  /** Weights by Hugging Face name (projections input-major). */
  readonly parameters: ReadonlyMap<string, StudentWeight>;
  dispose(): void;
}

export interface LanguageModel extends StudentModel {
  /** Trainable weights by Hugging Face name (projections input-major). */
  readonly parameters: ReadonlyMap<string, tf.Variable>;
  /** inputIds: int32 [batch, sequence]. */
  forward(inputIds: tf.Tensor2D, options?: ForwardOptions): ForwardResult;
  dispose(): void;
}

/** Shape of every parameter, in a stable order (the order of init seeds and checkpoints). */
export function parameterShapes(config: ModelConfig): Array<[string, number[]]> {
  const { hiddenSize, intermediateSize, heads, keyValueHeads, headSize } = config;
  const shapes: Array<[string, number[]]> = [['model.embed_tokens.weight', [config.vocabSize, hiddenSize]]];
  for (let layer = 0; layer < config.layers; layer++) {
    const prefix = `model.layers.${layer}`;
    shapes.push(
      [`${prefix}.input_layernorm.weight`, [hiddenSize]],
      [`${prefix}.self_attn.q_proj.weight`, [hiddenSize, heads * headSize]],
      [`${prefix}.self_attn.k_proj.weight`, [hiddenSize, keyValueHeads * headSize]],
      [`${prefix}.self_attn.v_proj.weight`, [hiddenSize, keyValueHeads * headSize]],
      [`${prefix}.self_attn.o_proj.weight`, [heads * headSize, hiddenSize]],
      [`${prefix}.post_attention_layernorm.weight`, [hiddenSize]],
      [`${prefix}.mlp.gate_proj.weight`, [hiddenSize, intermediateSize]],
      [`${prefix}.mlp.up_proj.weight`, [hiddenSize, intermediateSize]],
      [`${prefix}.mlp.down_proj.weight`, [intermediateSize, hiddenSize]],
    );
  }
  shapes.push(['model.norm.weight', [hiddenSize]]);
  return shapes;
}

function isNormWeight(name: string): boolean {
  return name.endsWith('layernorm.weight') || name === 'model.norm.weight';
}

function rmsNorm(x: tf.Tensor, weight: tf.Tensor, epsilon: number): tf.Tensor {
  const meanSquare = tf.mean(tf.square(x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(meanSquare, epsilon))), weight);
}

/** x·cos + rotateHalf(x)·sin with rotateHalf([a, b]) = [−b, a], from tensor ops (backends without the Rotary kernel). */
function rotaryByOps(x: tf.Tensor4D, cos: tf.Tensor2D, sin: tf.Tensor2D): tf.Tensor4D {
  const [sequence, headSize] = cos.shape;
  const half = headSize / 2;
  const [first, second] = tf.split(x, [half, half], 3);
  const rotated = tf.concat([tf.neg(second), first], 3);
  const tableShape = [1, sequence, 1, headSize];
  return tf.add(tf.mul(x, tf.reshape(cos, tableShape)), tf.mul(rotated, tf.reshape(sin, tableShape))) as tf.Tensor4D;
}

const fusedRotary = tf.customGrad((x, cos, sin, save) => {
  (save as tf.GradSaveFunc)([cos as tf.Tensor, sin as tf.Tensor]);
  return {
    value: tf.engine().runKernel(Rotary, { x: x as tf.Tensor, cos: cos as tf.Tensor, sin: sin as tf.Tensor }) as tf.Tensor,
    // The rotation is orthogonal and cos/sin repeat over both halves, so its transpose is the
    // same rotation with sin negated.
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [savedCos, savedSin] = saved;
      return [tf.engine().runKernel(Rotary, { x: dy, cos: savedCos, sin: tf.neg(savedSin) }) as tf.Tensor, tf.zerosLike(savedCos), tf.zerosLike(savedSin)];
    },
  };
});

/** Rotary positions on x [batch, sequence, heads, headSize] with tables [sequence, headSize]. */
function applyRotary(x: tf.Tensor4D, cos: tf.Tensor2D, sin: tf.Tensor2D): tf.Tensor4D {
  if (!hasKernel(Rotary)) return rotaryByOps(x, cos, sin);
  return fusedRotary(x, cos, sin) as tf.Tensor4D;
}

const gatheredRows = tf.customGrad((table, ids, save) => {
  const vocab = (table as tf.Tensor).shape[0];
  (save as tf.GradSaveFunc)([ids as tf.Tensor]);
  return {
    value: tf.engine().runKernel(GatherRows, { table: table as tf.Tensor, ids: ids as tf.Tensor }) as tf.Tensor,
    // The same sums, in the same order, as the built-in gradient of tf.gather.
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [savedIds] = saved;
      return [tf.unsortedSegmentSum(dy, savedIds as tf.Tensor1D, vocab), tf.zerosLike(savedIds)];
    },
  };
});

/** Embedding rows [ids, hiddenSize] for int32 ids [count]. */
function embed(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  if (!hasKernel(GatherRows)) return tf.gather(table, ids);
  return gatheredRows(table, ids) as tf.Tensor2D;
}

/** Repeats each key/value head so grouped heads line up with the query heads. */
function repeatHeads(x: tf.Tensor4D, times: number): tf.Tensor4D {
  if (times === 1) return x;
  const [batch, heads, length, size] = x.shape;
  const expanded = tf.reshape(x, [batch, heads, 1, length, size]);
  const repeated = tf.concat(Array.from({ length: times }, () => expanded), 2);
  return tf.reshape(repeated, [batch, heads * times, length, size]);
}

/** Additive causal mask [sequence, past + sequence]: 0 where a query may look, −1e9 elsewhere. */
function causalMask(past: number, sequence: number): tf.Tensor2D {
  const total = past + sequence;
  const values = new Float32Array(sequence * total);
  for (let row = 0; row < sequence; row++) {
    for (let column = past + row + 1; column < total; column++) values[row * total + column] = -1e9;
  }
  return tf.tensor2d(values, [sequence, total]);
}

class DecoderModel implements LanguageModel {
  readonly config: ModelConfig;
  readonly parameters: Map<string, tf.Variable>;

  constructor(config: ModelConfig, parameters: Map<string, tf.Variable>) {
    this.config = config;
    this.parameters = parameters;
  }

  private weight(name: string): tf.Variable {
    const value = this.parameters.get(name);
    if (!value) throw new TrainerError('E_CONFIG', `model has no parameter ${name}`);
    return value;
  }

  forward(inputIds: tf.Tensor2D, options: ForwardOptions = {}): ForwardResult {
    const config = this.config;
    const [batch, sequence] = inputIds.shape;
    const { heads, keyValueHeads, headSize } = config;
    const pastLength = options.past?.[0]?.key.shape[2] ?? 0;
    if (options.past && options.past.length !== config.layers) {
      throw new TrainerError('E_OPTIONS', `past has ${options.past.length} layers, the model has ${config.layers}`);
    }
    if (pastLength + sequence > config.maxPositions) {
      throw new TrainerError('E_OPTIONS', `${pastLength + sequence} positions exceed maxPositions ${config.maxPositions}`);
    }
    const tables = rotaryTables(pastLength, sequence, headSize, config.ropeTheta);
    const cos = tf.tensor2d(tables.cos, [sequence, headSize]);
    const sin = tf.tensor2d(tables.sin, [sequence, headSize]);
    const mask = causalMask(pastLength, sequence);
    const scale = 1 / Math.sqrt(headSize);
    const present: LayerCache[] = [];

    let hidden = embed(this.weight('model.embed_tokens.weight') as tf.Tensor2D, tf.reshape(inputIds, [batch * sequence]) as tf.Tensor1D);
    for (let layer = 0; layer < config.layers; layer++) {
      const prefix = `model.layers.${layer}`;
      const normed = rmsNorm(hidden, this.weight(`${prefix}.input_layernorm.weight`), config.rmsNormEpsilon) as tf.Tensor2D;
      // Rotary positions act on [batch, sequence, heads, headSize], the projection's own layout;
      // one transpose then gives the [batch, heads, sequence, headSize] the products take.
      const split = (x: tf.Tensor2D, count: number) => tf.reshape(x, [batch, sequence, count, headSize]) as tf.Tensor4D;
      const toHeads = (x: tf.Tensor4D) => tf.transpose(x, [0, 2, 1, 3]) as tf.Tensor4D;
      const query = toHeads(applyRotary(split(matMul(normed, this.weight(`${prefix}.self_attn.q_proj.weight`)), heads), cos, sin));
      let key = toHeads(applyRotary(split(matMul(normed, this.weight(`${prefix}.self_attn.k_proj.weight`)), keyValueHeads), cos, sin));
      let value = toHeads(split(matMul(normed, this.weight(`${prefix}.self_attn.v_proj.weight`)), keyValueHeads));
      const past = options.past?.[layer];
      if (past) {
        key = tf.concat([past.key, key], 2);
        value = tf.concat([past.value, value], 2);
      }
      present.push({ key, value });
      const repeats = heads / keyValueHeads;
      const scores = tf.add(tf.mul(matMulTransposed(query, repeatHeads(key, repeats)), scale), mask);
      const attended = matMul(tf.softmax(scores), repeatHeads(value, repeats));
      const merged = tf.reshape(tf.transpose(attended, [0, 2, 1, 3]), [batch * sequence, heads * headSize]) as tf.Tensor2D;
      hidden = tf.add(hidden, matMul(merged, this.weight(`${prefix}.self_attn.o_proj.weight`)));

      const normedAgain = rmsNorm(hidden, this.weight(`${prefix}.post_attention_layernorm.weight`), config.rmsNormEpsilon) as tf.Tensor2D;
      const gate = matMul(normedAgain, this.weight(`${prefix}.mlp.gate_proj.weight`));
      const up = matMul(normedAgain, this.weight(`${prefix}.mlp.up_proj.weight`));
      const activated = tf.mul(tf.mul(gate, tf.sigmoid(gate)), up) as tf.Tensor2D;
      hidden = tf.add(hidden, matMul(activated, this.weight(`${prefix}.mlp.down_proj.weight`)));
    }
    const final = rmsNorm(hidden, this.weight('model.norm.weight'), config.rmsNormEpsilon) as tf.Tensor2D;
    const logits = matMulTransposed(final, this.weight('model.embed_tokens.weight'));
    return { logits: tf.reshape(logits, [batch, sequence, config.vocabSize]), present };
  }

  dispose(): void {
    for (const variable of this.parameters.values()) variable.dispose();
    this.parameters.clear();
  }
}

export interface CreateModelOptions {
  /** Seed of the weight initialization (default 0): the same seed gives the same weights. */
  seed?: number;
}

/** A freshly initialized model: normal(0, initializerRange) matrices, norms at 1. */
export function createModel(configInput: ModelConfigInput | ModelConfig, options: CreateModelOptions = {}): LanguageModel {
  const config = resolveModelConfig(configInput as ModelConfigInput);
  const seed = options.seed ?? 0;
  const parameters = new Map<string, tf.Variable>();
  parameterShapes(config).forEach(([name, shape], index) => {
    const initial = tf.tidy(() =>
      isNormWeight(name) ? tf.ones(shape) : tf.randomNormal(shape, 0, config.initializerRange, 'float32', seed * 100_003 + index + 1),
    );
    parameters.set(name, tf.variable(initial, true));
    initial.dispose();
  });
  return new DecoderModel(config, parameters);
}

/** A model from stored weights (checkpoint layout: input-major projections). */
export function modelFromWeights(configInput: ModelConfigInput | ModelConfig, weights: ReadonlyMap<string, Float32Array>): LanguageModel {
  const config = resolveModelConfig(configInput as ModelConfigInput);
  const parameters = new Map<string, tf.Variable>();
  for (const [name, shape] of parameterShapes(config)) {
    const values = weights.get(name);
    const expected = shape.reduce((product, size) => product * size, 1);
    if (!values || values.length !== expected) {
      for (const variable of parameters.values()) variable.dispose();
      throw new TrainerError(
        'E_CHECKPOINT',
        `weight ${name}: expected ${expected} values for shape [${shape.join(', ')}], found ${values ? values.length : 'none'}; the weights do not belong to this config`,
      );
    }
    const initial = tf.tensor(values, shape);
    parameters.set(name, tf.variable(initial, true));
    initial.dispose();
  }
  return new DecoderModel(config, parameters);
}
