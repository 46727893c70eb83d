// The training graph of the student for onnxruntime: the forward pass of model.ts and its
// backward pass derived by hand, as standard ONNX operators (plus com.microsoft FusedMatMul,
// a batched product with transposes, which onnxruntime's CPU build has). Inputs: the weights
// (checkpoint layout: projections input-major), token ids and labels, the objective's own
// inputs; outputs: the loss, the objective's metrics and one gradient per weight
// (`grad.<name>`). Shapes are fixed per graph (batch × sequence), so the runtime plans memory
// and picks kernels once. Products over the same input share one matrix (q/k/v, gate/up).
import type { ModelConfig } from '../config.js';
import { parameterShapes } from '../model.js';
import { GraphBuilder } from '../onnx-graph.js';
import { rotaryTables } from '../rope.js';
import type { EngineObjective } from './objective.js';

export const trainingOpset = 17;

export interface TrainingGraphShape {
  batchSize: number;
  sequenceLength: number;
  /** Forward and loss only, no gradients (the benchmark's forward time). */
  forwardOnly?: boolean;
}

export interface TrainingGraph {
  bytes: Uint8Array;
  /** Weight input names in parameterShapes order. */
  weights: string[];
  /** Output names of the metrics the objective reports. */
  metrics: string[];
}

export const gradientName = (name: string): string => `grad.${name}`;

/** Builds the forward + backward graph of one micro-batch for `objective`. */
export function buildTrainingGraph(config: ModelConfig, shape: TrainingGraphShape, objective: EngineObjective): TrainingGraph {
  const { heads, keyValueHeads, headSize, hiddenSize, intermediateSize, vocabSize, layers } = config;
  const { batchSize: B, sequenceLength: S } = shape;
  const N = B * S;
  const repeats = heads / keyValueHeads;
  const qWidth = heads * headSize;
  const kvWidth = keyValueHeads * headSize;
  const g = new GraphBuilder();
  g.useDomain('com.microsoft', 1);

  const shapes = parameterShapes(config);
  const weights = new Map<string, string>();
  for (const [name, dims] of shapes) weights.set(name, g.input(name, 'float', dims));
  const w = (name: string) => weights.get(name)!;
  const gradients = new Map<string, string>();

  const ids = g.input('input_ids', 'int64', [N]);
  const labels = g.input('labels', 'int64', [N, 1]);
  const rowWeights = g.input('row_weights', 'float', [N]);

  // Constants, one initializer per distinct value (onnxruntime would merge duplicates and
  // report each one it drops).
  const constants = new Map<string, string>();
  const constant = (key: string, make: (name: string) => string) => {
    let name = constants.get(key);
    if (!name) constants.set(key, (name = make(g.unique('c'))));
    return name;
  };
  const ints = (values: number[]) => constant(`i${values.join(',')}`, (name) => g.ints(name, values));
  const float = (value: number) => constant(`f${value}`, (name) => g.floats(name, Float32Array.of(value), []));
  const half = headSize / 2;
  const tables = rotaryTables(0, S, headSize, config.ropeTheta);
  const cos = g.floats('rotary_cos', tables.cos, [S, headSize]);
  const sin = g.floats('rotary_sin', tables.sin, [S, headSize]);
  const negativeSin = g.floats('rotary_negative_sin', tables.sin.map((value) => -value), [S, headSize]);
  const maskValues = new Float32Array(S * S);
  for (let row = 0; row < S; row++) for (let column = row + 1; column < S; column++) maskValues[row * S + column] = -1e9;
  const mask = g.floats('causal_mask', maskValues, [S, S]);
  const epsilon = float(config.rmsNormEpsilon);
  const scale = 1 / Math.sqrt(headSize);
  const axisLast = ints([-1]);
  const axis0 = ints([0]);
  const sliceStart = ints([0]);
  const sliceHalf = ints([half]);
  const sliceEnd = ints([headSize]);
  const axis3 = ints([3]);
  const rowsShape = (width: number) => ints([N, width]);
  const headsShape = (count: number) => ints([B, S, count, headSize]);

  // Helpers.
  const op = (type: string, inputs: string[], attributes: Parameters<GraphBuilder['op']>[2] = {}) => g.op(type, inputs, attributes);
  const gemm = (a: string, b: string, transA = 0, transB = 0) => op('Gemm', [a, b], { transA, transB });
  const batched = (a: string, b: string, transA = 0, transB = 0, alpha = 1) =>
    g.node('FusedMatMul', [a, b], { transA, transB, alpha: { float: alpha } }, 1, 'com.microsoft')[0];
  const sumRows = (x: string) => op('ReduceSum', [x, axis0], { keepdims: 0 });
  const add = (a: string, b: string) => op('Add', [a, b]);
  const mul = (a: string, b: string) => op('Mul', [a, b]);
  const sub = (a: string, b: string) => op('Sub', [a, b]);
  const rotateHalf = (x: string) => {
    const first = op('Slice', [x, sliceStart, sliceHalf, axis3]);
    const second = op('Slice', [x, sliceHalf, sliceEnd, axis3]);
    return op('Concat', [op('Neg', [second]), first], { axis: 3 });
  };
  // x [B, H, S, hd] → x·cos + rotateHalf(x)·sin; its transpose is the same with sin negated.
  const rotary = (x: string) => add(mul(x, cos), mul(rotateHalf(x), sin));
  const rotaryBackward = (dy: string) => add(mul(dy, cos), mul(rotateHalf(dy), negativeSin));
  const toHeads = (x: string, count: number) => op('Transpose', [op('Reshape', [x, headsShape(count)])], { perm: [0, 2, 1, 3] });
  const fromHeads = (x: string, count: number) => op('Reshape', [op('Transpose', [x], { perm: [0, 2, 1, 3] }), rowsShape(count * headSize)]);
  // Grouped-query attention repeats key/value heads (constants only then: unused ones would be
  // reported at every load).
  const grouping = repeats === 1 ? undefined : { axis2: ints([2]), expand: ints([B, keyValueHeads, repeats, S, headSize]), repeated: ints([B, heads, S, headSize]) };
  const repeatHeads = (x: string) => (grouping ? op('Reshape', [op('Expand', [op('Unsqueeze', [x, grouping.axis2]), grouping.expand]), grouping.repeated]) : x);
  const sumRepeats = (x: string) => (grouping ? op('ReduceSum', [op('Reshape', [x, grouping.expand]), grouping.axis2], { keepdims: 0 }) : x);

  interface NormSaved { normalized: string; inverse: string; gain: string }
  const rmsNorm = (x: string, gainName: string): { y: string; saved: NormSaved } => {
    const meanSquare = op('ReduceMean', [mul(x, x)], { axes: [-1], keepdims: 1 });
    const inverse = op('Reciprocal', [op('Sqrt', [add(meanSquare, epsilon)])]);
    const normalized = mul(x, inverse);
    const gain = w(gainName);
    gradients.set(gainName, '');
    return { y: mul(normalized, gain), saved: { normalized, inverse, gain } };
  };
  const rmsNormBackward = (dy: string, saved: NormSaved, gainName: string): string => {
    gradients.set(gainName, sumRows(mul(dy, saved.normalized)));
    const dNormalized = mul(dy, saved.gain);
    const projection = op('ReduceMean', [mul(dNormalized, saved.normalized)], { axes: [-1], keepdims: 1 });
    return mul(saved.inverse, sub(dNormalized, mul(saved.normalized, projection)));
  };

  // Forward.
  interface LayerSaved {
    prefix: string;
    norm1: NormSaved; normed: string; qkvWeight: string; query: string; key: string; value: string; probabilities: string; merged: string;
    norm2: NormSaved; normedAgain: string; gateUpWeight: string; gate: string; up: string; sigmoid: string; swish: string; activated: string;
  }
  const saved: LayerSaved[] = [];
  const embedding = w('model.embed_tokens.weight');
  let hidden = op('Gather', [embedding, ids], { axis: 0 });
  for (let layer = 0; layer < layers; layer++) {
    const prefix = `model.layers.${layer}`;
    const norm1 = rmsNorm(hidden, `${prefix}.input_layernorm.weight`);
    const qkvWeight = op('Concat', [w(`${prefix}.self_attn.q_proj.weight`), w(`${prefix}.self_attn.k_proj.weight`), w(`${prefix}.self_attn.v_proj.weight`)], { axis: 1 });
    const [q, k, v] = g.node('Split', [gemm(norm1.y, qkvWeight), ints([qWidth, kvWidth, kvWidth])], { axis: 1 }, 3);
    const query = rotary(toHeads(q, heads));
    const key = rotary(toHeads(k, keyValueHeads));
    const value = toHeads(v, keyValueHeads);
    const scores = add(batched(query, repeatHeads(key), 0, 1, scale), mask);
    const probabilities = op('Softmax', [scores], { axis: -1 });
    const merged = fromHeads(batched(probabilities, repeatHeads(value)), heads);
    hidden = add(hidden, gemm(merged, w(`${prefix}.self_attn.o_proj.weight`)));

    const norm2 = rmsNorm(hidden, `${prefix}.post_attention_layernorm.weight`);
    const gateUpWeight = op('Concat', [w(`${prefix}.mlp.gate_proj.weight`), w(`${prefix}.mlp.up_proj.weight`)], { axis: 1 });
    const [gate, up] = g.node('Split', [gemm(norm2.y, gateUpWeight), ints([intermediateSize, intermediateSize])], { axis: 1 }, 2);
    const sigmoid = op('Sigmoid', [gate]);
    const swish = mul(gate, sigmoid);
    const activated = mul(swish, up);
    hidden = add(hidden, gemm(activated, w(`${prefix}.mlp.down_proj.weight`)));
    saved.push({ prefix, norm1: norm1.saved, normed: norm1.y, qkvWeight, query, key, value, probabilities, merged, norm2: norm2.saved, normedAgain: norm2.y, gateUpWeight, gate, up, sigmoid, swish, activated });
  }
  const finalNorm = rmsNorm(hidden, 'model.norm.weight');
  const logitScale = objective.logitScale ?? 1;
  const logits = logitScale === 1 ? gemm(finalNorm.y, embedding, 0, 1) : op('Gemm', [finalNorm.y, embedding], { transA: 0, transB: 1, alpha: { float: logitScale } });

  // Objective.
  const outputs = objective.build(g, { logits, labels, rowWeights, rows: N, vocab: vocabSize });

  g.op('Identity', [outputs.loss], {}, 'loss');
  g.output('loss', 'float', []);
  const metrics: string[] = [];
  for (const [name, value] of Object.entries(outputs.metrics ?? {})) {
    g.op('Identity', [value], {}, `metric.${name}`);
    g.output(`metric.${name}`, 'float', []);
    metrics.push(name);
  }
  const weightNames = shapes.map(([name]) => name);
  if (shape.forwardOnly) return { bytes: g.encode({ name: 'kd-llama-forward', producer: 'kd', opset: trainingOpset }), weights: weightNames, metrics };

  // Backward.
  const headGradient = gemm(outputs.dLogits, finalNorm.y, 1, 0);
  let dHidden = rmsNormBackward(gemm(outputs.dLogits, embedding), finalNorm.saved, 'model.norm.weight');
  for (let layer = layers - 1; layer >= 0; layer--) {
    const s = saved[layer];
    const prefix = s.prefix;
    // MLP.
    gradients.set(`${prefix}.mlp.down_proj.weight`, gemm(s.activated, dHidden, 1, 0));
    const dActivated = gemm(dHidden, w(`${prefix}.mlp.down_proj.weight`), 0, 1);
    const dUp = mul(dActivated, s.swish);
    // d swish / d gate = σ(g)·(1 + g·(1 − σ(g))) = σ + swish·(1 − σ).
    const swishSlope = add(s.sigmoid, mul(s.swish, sub(float(1), s.sigmoid)));
    const dGate = mul(mul(dActivated, s.up), swishSlope);
    const dGateUp = op('Concat', [dGate, dUp], { axis: 1 });
    const [gateGradient, upGradient] = g.node('Split', [gemm(s.normedAgain, dGateUp, 1, 0), ints([intermediateSize, intermediateSize])], { axis: 1 }, 2);
    gradients.set(`${prefix}.mlp.gate_proj.weight`, gateGradient);
    gradients.set(`${prefix}.mlp.up_proj.weight`, upGradient);
    dHidden = add(dHidden, rmsNormBackward(gemm(dGateUp, s.gateUpWeight, 0, 1), s.norm2, `${prefix}.post_attention_layernorm.weight`));

    // Attention.
    gradients.set(`${prefix}.self_attn.o_proj.weight`, gemm(s.merged, dHidden, 1, 0));
    const dAttended = toHeads(gemm(dHidden, w(`${prefix}.self_attn.o_proj.weight`), 0, 1), heads);
    const keyRepeated = repeatHeads(s.key);
    const valueRepeated = repeatHeads(s.value);
    const dProbabilities = batched(dAttended, valueRepeated, 0, 1);
    const dValue = sumRepeats(batched(s.probabilities, dAttended, 1, 0));
    const rowDot = op('ReduceSum', [mul(dProbabilities, s.probabilities), axisLast], { keepdims: 1 });
    const dScores = mul(s.probabilities, sub(dProbabilities, rowDot));
    const dQuery = rotaryBackward(batched(dScores, keyRepeated, 0, 0, scale));
    const dKey = rotaryBackward(sumRepeats(batched(dScores, s.query, 1, 0, scale)));
    const dQkv = op('Concat', [fromHeads(dQuery, heads), fromHeads(dKey, keyValueHeads), fromHeads(dValue, keyValueHeads)], { axis: 1 });
    const [qGradient, kGradient, vGradient] = g.node('Split', [gemm(s.normed, dQkv, 1, 0), ints([qWidth, kvWidth, kvWidth])], { axis: 1 }, 3);
    gradients.set(`${prefix}.self_attn.q_proj.weight`, qGradient);
    gradients.set(`${prefix}.self_attn.k_proj.weight`, kGradient);
    gradients.set(`${prefix}.self_attn.v_proj.weight`, vGradient);
    dHidden = add(dHidden, rmsNormBackward(gemm(dQkv, s.qkvWeight, 0, 1), s.norm1, `${prefix}.input_layernorm.weight`));
  }
  // Tied embedding: the LM head's gradient plus the lookup's rows, added at their ids.
  const lookupIndices = op('Unsqueeze', [ids, ints([1])]);
  gradients.set('model.embed_tokens.weight', g.op('ScatterND', [headGradient, lookupIndices, dHidden], { reduction: { string: 'add' } }));

  for (const [name, dims] of shapes) {
    g.op('Identity', [gradients.get(name)!], {}, gradientName(name));
    g.output(gradientName(name), 'float', dims);
  }
  return { bytes: g.encode({ name: 'kd-llama-training', producer: 'kd', opset: trainingOpset }), weights: weightNames, metrics };
}
