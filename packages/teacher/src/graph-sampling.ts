// Draws for sampled and hybrid rows inside the teacher's graph: Multinomial over the proposal
// logits (the scaled logits divided by the proposal temperature, with the top-k candidates
// masked out for a hybrid tail), so JavaScript never sees a vocabulary-size row. Only the drawn
// ids come back, with p/q per draw when the proposal differs from the distribution itself.
import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';
import type { GraphSampling } from './graph.js';

const { onnx: proto } = onnxProto;

const FLOAT = 1;
const INT32 = 6;
const ATTRIBUTE_FLOAT = 1;
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_TENSOR = 4;

/** A logit this low has probability 0 after Softmax at any temperature the teacher accepts. */
const MASKED_LOGIT = -1e30;

export interface SamplingInputs {
  /** logits / τ, [batch, sequence, vocabulary]. */
  scaledLogits: string;
  /** softmax(logits / τ), [batch, sequence, vocabulary]. */
  probabilities: string;
  /** TopK indices (int64), [batch, sequence, k]. */
  topIds: string;
}

/**
 * Appends the draw nodes to `nodes`; returns the output names: `ids` [batch·sequence, samples]
 * int32, and `weights` (p/q per draw, float) unless the proposal is the distribution itself or
 * its tail renormalized (proposal temperature 1), where the weight is known without the graph.
 */
export function appendSampling(
  nodes: onnx.INodeProto[],
  fresh: (base: string) => string,
  inputs: SamplingInputs,
  sampling: GraphSampling,
  initializers: onnx.ITensorProto[],
): { ids: string; weights?: string } {
  const node = (opType: string, input: string[], attribute: onnx.IAttributeProto[] = []): string => {
    const output = fresh(`${opType.toLowerCase()}_out`);
    nodes.push({ opType, name: fresh(`${opType.toLowerCase()}_node`), input, output: [output], attribute });
    return output;
  };
  const axis = (name: string, value: number): onnx.IAttributeProto => ({ name, type: ATTRIBUTE_INT, i: value });
  // [batch, sequence, vocabulary] → [batch·sequence, vocabulary]: Multinomial takes 2-D input.
  let proposal = node('Flatten', [inputs.scaledLogits], [axis('axis', 2)]);
  if (sampling.proposalTemperature !== 1) {
    const temperature = fresh('proposal_temperature');
    initializers.push(proto.TensorProto.create({ name: temperature, dataType: FLOAT, dims: [], floatData: [sampling.proposalTemperature] }));
    proposal = node('Div', [proposal, temperature]);
  }
  if (sampling.excludeTopK) {
    const topIds = node('Flatten', [inputs.topIds], [axis('axis', 2)]);
    const masked = node('ConstantOfShape', [node('Shape', [topIds])], [
      { name: 'value', type: ATTRIBUTE_TENSOR, t: proto.TensorProto.create({ dataType: FLOAT, dims: [1], floatData: [MASKED_LOGIT] }) },
    ]);
    proposal = node('ScatterElements', [proposal, topIds, masked], [axis('axis', 1)]);
  }
  const ids = node('Multinomial', [proposal], [
    axis('sample_size', sampling.samples),
    { name: 'seed', type: ATTRIBUTE_FLOAT, f: sampling.seed },
    axis('dtype', INT32),
  ]);
  if (sampling.proposalTemperature === 1) return { ids };
  const targetAtDraw = node('GatherElements', [node('Flatten', [inputs.probabilities], [axis('axis', 2)]), ids], [axis('axis', 1)]);
  const proposalAtDraw = node('GatherElements', [node('Softmax', [proposal], [axis('axis', -1)]), ids], [axis('axis', 1)]);
  return { ids, weights: node('Div', [targetAtDraw, proposalAtDraw]) };
}
