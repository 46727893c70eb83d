// The fast path: the teacher's own graph with Cast → Div(τ) → Softmax → TopK appended after
// its logits, so a run returns only [batch, sequence, k] probabilities and ids instead of
// [batch, sequence, vocabulary] logits (copying and soft-maxing full rows in JavaScript costs
// more than the forward pass of a small teacher). Full-distribution rows take the same graph
// with only the Softmax appended (appendSoftmax).
import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';
import { TeacherError } from './errors.js';
import { appendSampling } from './graph-sampling.js';
import type { ModelSignature } from './signature.js';

const { onnx: proto } = onnxProto;

/** Names of the appended graph input (k) and outputs. */
export interface TopKNames {
  k: string;
  probabilities: string;
  ids: string;
  /** With sampling: the drawn ids [batch·sequence, samples] (int32). */
  sampleIds?: string;
  /** With sampling at a proposal temperature ≠ 1: p(id) / q(id) of each draw [batch·sequence, samples]. */
  sampleWeights?: string;
}

/** Draws appended after the probability head (see graph-sampling.ts). */
export interface GraphSampling {
  samples: number;
  proposalTemperature: number;
  seed: number;
  /** Draw only from ids outside the top-k candidates (the tail of a hybrid row). */
  excludeTopK: boolean;
}

const FLOAT = 1;
const INT32 = 6;
const INT64 = 7;
const EXTERNAL = 1;
const ATTRIBUTE_INT = 2;

function intAttribute(name: string, value: number): onnx.IAttributeProto {
  return { name, type: ATTRIBUTE_INT, i: value };
}

/** Decodes ONNX bytes, with a clear error when they are not a model. */
export function decodeModel(bytes: Uint8Array, modelPath: string): onnx.ModelProto {
  try {
    return proto.ModelProto.decode(bytes);
  } catch (cause) {
    throw new TeacherError('E_MODEL_FORMAT', `${modelPath}: not an ONNX model (${(cause as Error).message}); pass the .onnx file of a causal LM`, { cause });
  }
}

/** The teacher's softmax at τ as nodes after its logits: Cast to float (fp16 logits), Div(τ), Softmax. */
function probabilityNodes(
  model: onnx.ModelProto,
  signature: ModelSignature,
  temperature: number,
  modelPath: string,
): { nodes: onnx.INodeProto[]; fresh: (base: string) => string; scaledLogits: string; probabilities: string } {
  const graph = model.graph!;
  if ((graph.initializer ?? []).some((tensor) => tensor.dataLocation === EXTERNAL)) {
    throw new TeacherError('E_MODEL_FORMAT', `${modelPath}: weights are stored in external data files, which the teacher does not load; save the model as a single .onnx file (under 2 GB)`);
  }
  const taken = new Set<string>();
  for (const node of graph.node ?? []) for (const name of [...(node.input ?? []), ...(node.output ?? [])]) taken.add(name);
  for (const value of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.initializer ?? [])]) taken.add(value.name ?? '');
  const fresh = (base: string): string => {
    let name = `kd_${base}`;
    for (let suffix = 1; taken.has(name); suffix++) name = `kd_${base}_${suffix}`;
    taken.add(name);
    return name;
  };

  const nodes: onnx.INodeProto[] = [];
  let current = signature.logits.name;
  if (signature.logits.type !== 'float32') {
    const cast = fresh('logits_float');
    nodes.push({ opType: 'Cast', name: fresh('cast_logits'), input: [current], output: [cast], attribute: [intAttribute('to', FLOAT)] });
    current = cast;
  }
  if (temperature !== 1) {
    const temperatureName = fresh('temperature');
    graph.initializer!.push(proto.TensorProto.create({ name: temperatureName, dataType: FLOAT, dims: [], floatData: [temperature] }));
    const scaled = fresh('scaled_logits');
    nodes.push({ opType: 'Div', name: fresh('divide_by_temperature'), input: [current, temperatureName], output: [scaled] });
    current = scaled;
  }
  const probabilities = fresh('probabilities');
  // axis −1: in opset < 13 Softmax flattens from the axis onward, which for the last axis is
  // the same per-row softmax.
  nodes.push({ opType: 'Softmax', name: fresh('softmax'), input: [current], output: [probabilities], attribute: [intAttribute('axis', -1)] });
  return { nodes, fresh, scaledLogits: current, probabilities };
}

/**
 * Appends the whole softmax at τ to `model` (mutated) and returns the new bytes: the graph's
 * only output becomes the probabilities [batch, sequence, vocabulary] (full-distribution rows,
 * no selection), so no TopK over the whole vocabulary sorts them and no cache output is copied.
 */
export function appendSoftmax(model: onnx.ModelProto, signature: ModelSignature, temperature: number, modelPath: string): { bytes: Uint8Array; probabilities: string } {
  const { nodes, probabilities } = probabilityNodes(model, signature, temperature, modelPath);
  const graph = model.graph!;
  graph.node!.push(...nodes.map((node) => proto.NodeProto.create(node)));
  graph.output = [proto.ValueInfoProto.create({ name: probabilities, type: { tensorType: { elemType: FLOAT } } })];
  return { bytes: proto.ModelProto.encode(model).finish(), probabilities };
}

/**
 * Appends the probability head to `model` (mutated) and returns the new bytes. The graph's
 * outputs become just the top-k probabilities and ids, so cache outputs are not copied out.
 * K is a graph input: one session serves every k a label call needs.
 */
export function appendTopK(
  model: onnx.ModelProto,
  signature: ModelSignature,
  temperature: number,
  modelPath: string,
  sampling?: GraphSampling,
): { bytes: Uint8Array; names: TopKNames } {
  if (signature.opset < 11) {
    throw new TeacherError('E_MODEL_FORMAT', `${modelPath}: opset ${signature.opset} is older than 11, the first with TopK(largest, sorted); export with opset 11 or newer`);
  }
  const graph = model.graph!;
  const { nodes, fresh, scaledLogits: current, probabilities } = probabilityNodes(model, signature, temperature, modelPath);
  const names: TopKNames = { k: fresh('top_k'), probabilities: fresh('top_probabilities'), ids: fresh('top_ids') };
  const ids64 = fresh('top_ids_int64');
  nodes.push({
    opType: 'TopK',
    name: fresh('top_k_node'),
    input: [probabilities, names.k],
    output: [names.probabilities, ids64],
    attribute: [intAttribute('axis', -1), intAttribute('largest', 1), intAttribute('sorted', 1)],
  });
  // int32 ids read straight into typed arrays; int64 would mean a BigInt per entry.
  nodes.push({ opType: 'Cast', name: fresh('cast_ids'), input: [ids64], output: [names.ids], attribute: [intAttribute('to', INT32)] });
  const outputs = [
    proto.ValueInfoProto.create({ name: names.probabilities, type: { tensorType: { elemType: FLOAT } } }),
    proto.ValueInfoProto.create({ name: names.ids, type: { tensorType: { elemType: INT32 } } }),
  ];
  if (sampling) {
    const sampled = appendSampling(nodes, fresh, { scaledLogits: current, probabilities, topIds: ids64 }, sampling, graph.initializer!);
    names.sampleIds = sampled.ids;
    outputs.push(proto.ValueInfoProto.create({ name: sampled.ids, type: { tensorType: { elemType: INT32 } } }));
    if (sampled.weights) {
      names.sampleWeights = sampled.weights;
      outputs.push(proto.ValueInfoProto.create({ name: sampled.weights, type: { tensorType: { elemType: FLOAT } } }));
    }
  }
  graph.node!.push(...nodes.map((node) => proto.NodeProto.create(node)));
  graph.input!.push(proto.ValueInfoProto.create({ name: names.k, type: { tensorType: { elemType: INT64, shape: { dim: [{ dimValue: 1 }] } } } }));
  graph.output = outputs;
  return { bytes: proto.ModelProto.encode(model).finish(), names };
}
