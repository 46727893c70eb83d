// The student as an ONNX graph in the shape Hugging Face exports a Llama with a cache:
// inputs input_ids, attention_mask, position_ids, past_key_values.{i}.key/value; outputs logits
// and present.{i}.key/value; batch and sequence dimensions dynamic. The operations mirror the
// TensorFlow.js forward pass one for one, so the two agree to float32 rounding.
import type { ModelConfig } from './config.js';
import { GraphBuilder } from './onnx-graph.js';
import { inverseFrequencies } from './rope.js';

export const onnxOpset = 17;

/** Builds the ONNX model bytes from weights in the checkpoint layout (projections input-major). */
export function buildOnnxModel(config: ModelConfig, weights: ReadonlyMap<string, Float32Array>): Uint8Array {
  const { heads, keyValueHeads, headSize, hiddenSize, intermediateSize, vocabSize } = config;
  const graph = new GraphBuilder();
  const weight = (name: string, dims: number[]) => {
    const values = weights.get(name);
    if (!values) throw new Error(`missing weight ${name}`);
    return graph.floats(name, values, dims);
  };

  const inputIds = graph.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const attentionMask = graph.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  const positionIds = graph.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
  const pastNames: Array<{ key: string; value: string }> = [];
  for (let layer = 0; layer < config.layers; layer++) {
    pastNames.push({
      key: graph.input(`past_key_values.${layer}.key`, 'float', ['batch_size', keyValueHeads, 'past_sequence_length', headSize]),
      value: graph.input(`past_key_values.${layer}.value`, 'float', ['batch_size', keyValueHeads, 'past_sequence_length', headSize]),
    });
  }
  graph.output('logits', 'float', ['batch_size', 'sequence_length', vocabSize]);
  for (let layer = 0; layer < config.layers; layer++) {
    graph.output(`present.${layer}.key`, 'float', ['batch_size', keyValueHeads, 'total_sequence_length', headSize]);
    graph.output(`present.${layer}.value`, 'float', ['batch_size', keyValueHeads, 'total_sequence_length', headSize]);
  }

  // Constants shared by the layers.
  const zero = graph.ints('const_zero', [0], []);
  const one = graph.ints('const_one', [1], []);
  const axis0 = graph.ints('const_axes_0', [0]);
  const axis1 = graph.ints('const_axes_1', [1]);
  const axis2 = graph.ints('const_axes_2', [2]);
  const axes12 = graph.ints('const_axes_1_2', [1, 2]);
  const axis3 = graph.ints('const_axes_3', [3]);
  const half = headSize / 2;
  const sliceStartFirst = graph.ints('const_slice_0', [0]);
  const sliceMiddle = graph.ints('const_slice_half', [half]);
  const sliceEnd = graph.ints('const_slice_end', [headSize]);
  const epsilon = graph.floats('const_rms_epsilon', Float32Array.of(config.rmsNormEpsilon), []);
  const exponentTwo = graph.floats('const_two', Float32Array.of(2), []);
  const scale = graph.floats('const_attention_scale', Float32Array.of(1 / Math.sqrt(headSize)), []);
  const allowedBias = graph.floats('const_mask_allowed', Float32Array.of(0), []);
  const blockedBias = graph.floats('const_mask_blocked', Float32Array.of(-1e9), []);
  const queryShape = graph.ints('const_query_shape', [0, 0, heads, headSize]);
  const keyValueShape = graph.ints('const_key_value_shape', [0, 0, keyValueHeads, headSize]);
  const mergedShape = graph.ints('const_merged_shape', [0, 0, heads * headSize]);

  // Attention bias [batch, 1, sequence, total]: causal within the window, padding from attention_mask.
  const sequenceLength = graph.op('Gather', [graph.op('Shape', [inputIds]), one], { axis: 0 });
  const totalLength = graph.op('Gather', [graph.op('Shape', [attentionMask]), one], { axis: 0 });
  const pastLength = graph.op('Sub', [totalLength, sequenceLength]);
  const queryPositions = graph.op('Range', [pastLength, totalLength, one]);
  const keyPositions = graph.op('Range', [zero, totalLength, one]);
  const causal = graph.op('LessOrEqual', [graph.op('Unsqueeze', [keyPositions, axis0]), graph.op('Unsqueeze', [queryPositions, axis1])]);
  const padding = graph.op('Unsqueeze', [graph.op('Cast', [attentionMask], { to: 9 }), axes12]);
  const attentionBias = graph.op('Where', [graph.op('And', [causal, padding]), allowedBias, blockedBias]);

  // Rotary tables [batch, 1, sequence, headSize] from position_ids, formed in float32 as in rope.ts.
  const frequencies = graph.floats('rotary_inverse_frequencies', inverseFrequencies(headSize, config.ropeTheta), [half]);
  const angles = graph.op('Mul', [graph.op('Unsqueeze', [graph.op('Cast', [positionIds], { to: 1 }), axis2]), frequencies]);
  const fullAngles = graph.op('Concat', [angles, angles], { axis: -1 });
  const cos = graph.op('Unsqueeze', [graph.op('Cos', [fullAngles]), axis1]);
  const sin = graph.op('Unsqueeze', [graph.op('Sin', [fullAngles]), axis1]);

  const rmsNorm = (x: string, gain: string) => {
    const meanSquare = graph.op('ReduceMean', [graph.op('Pow', [x, exponentTwo])], { axes: [-1], keepdims: 1 });
    const normalized = graph.op('Div', [x, graph.op('Sqrt', [graph.op('Add', [meanSquare, epsilon])])]);
    return graph.op('Mul', [normalized, gain]);
  };
  const rotary = (x: string) => {
    const first = graph.op('Slice', [x, sliceStartFirst, sliceMiddle, axis3]);
    const second = graph.op('Slice', [x, sliceMiddle, sliceEnd, axis3]);
    const rotated = graph.op('Concat', [graph.op('Neg', [second]), first], { axis: 3 });
    return graph.op('Add', [graph.op('Mul', [x, cos]), graph.op('Mul', [rotated, sin])]);
  };
  const repeats = heads / keyValueHeads;
  // Only grouped-query attention repeats key/value heads; without it the shape constants would
  // be unused initializers, which onnxruntime warns about at every load.
  const repeatShapes = repeats === 1 ? undefined : {
    expand: graph.ints('const_repeat_shape', [1, 1, repeats, 1, 1]),
    repeated: graph.ints('const_repeated_shape', [0, heads, -1, headSize]),
  };
  const repeatHeads = (x: string) => {
    if (!repeatShapes) return x;
    return graph.op('Reshape', [graph.op('Expand', [graph.op('Unsqueeze', [x, axis2]), repeatShapes.expand]), repeatShapes.repeated]);
  };

  const embedding = weight('model.embed_tokens.weight', [vocabSize, hiddenSize]);
  let hidden = graph.op('Gather', [embedding, inputIds], { axis: 0 });
  for (let layer = 0; layer < config.layers; layer++) {
    const prefix = `model.layers.${layer}`;
    const normed = rmsNorm(hidden, weight(`${prefix}.input_layernorm.weight`, [hiddenSize]));
    const project = (name: string, dims: number[]) => graph.op('MatMul', [normed, weight(`${prefix}.self_attn.${name}.weight`, dims)]);
    const toHeads = (x: string, shape: string) => graph.op('Transpose', [graph.op('Reshape', [x, shape])], { perm: [0, 2, 1, 3] });
    const query = rotary(toHeads(project('q_proj', [hiddenSize, heads * headSize]), queryShape));
    const newKey = rotary(toHeads(project('k_proj', [hiddenSize, keyValueHeads * headSize]), keyValueShape));
    const newValue = toHeads(project('v_proj', [hiddenSize, keyValueHeads * headSize]), keyValueShape);
    const key = graph.op('Concat', [pastNames[layer].key, newKey], { axis: 2 }, `present.${layer}.key`);
    const value = graph.op('Concat', [pastNames[layer].value, newValue], { axis: 2 }, `present.${layer}.value`);
    const keyTransposed = graph.op('Transpose', [repeatHeads(key)], { perm: [0, 1, 3, 2] });
    const scores = graph.op('Add', [graph.op('Mul', [graph.op('MatMul', [query, keyTransposed]), scale]), attentionBias]);
    const attended = graph.op('MatMul', [graph.op('Softmax', [scores], { axis: -1 }), repeatHeads(value)]);
    const merged = graph.op('Reshape', [graph.op('Transpose', [attended], { perm: [0, 2, 1, 3] }), mergedShape]);
    hidden = graph.op('Add', [hidden, graph.op('MatMul', [merged, weight(`${prefix}.self_attn.o_proj.weight`, [heads * headSize, hiddenSize])])]);

    const normedAgain = rmsNorm(hidden, weight(`${prefix}.post_attention_layernorm.weight`, [hiddenSize]));
    const gate = graph.op('MatMul', [normedAgain, weight(`${prefix}.mlp.gate_proj.weight`, [hiddenSize, intermediateSize])]);
    const up = graph.op('MatMul', [normedAgain, weight(`${prefix}.mlp.up_proj.weight`, [hiddenSize, intermediateSize])]);
    const activated = graph.op('Mul', [graph.op('Mul', [gate, graph.op('Sigmoid', [gate])]), up]);
    hidden = graph.op('Add', [hidden, graph.op('MatMul', [activated, weight(`${prefix}.mlp.down_proj.weight`, [intermediateSize, hiddenSize])])]);
  }
  const final = rmsNorm(hidden, weight('model.norm.weight', [hiddenSize]));
  // Tied embeddings: the output projection is the embedding's transpose (folded once at load).
  graph.op('MatMul', [final, graph.op('Transpose', [embedding], { perm: [1, 0] })], {}, 'logits');
  return graph.encode({ name: 'kd-llama', producer: 'kd', opset: onnxOpset });
}
