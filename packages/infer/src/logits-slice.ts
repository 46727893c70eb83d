// A rewrite of the model graph so that a run computes logits only where they are used: the
// hidden states going into the output projection (logits = MatMul(hidden, constant weights))
// are sliced along the sequence from a new input, `kd_logits_from` (−1: the last position, 0:
// all). Generation then skips the projection and the copy of logits for every prompt position
// (prefill) and, without a KV cache, for every earlier position at each step. Graphs of any
// other shape are left as they are.
import onnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';

const { onnx } = onnxProto;

export const logitsFromInput = 'kd_logits_from';

const INT64 = 7;
const externalLocation = 1;

function int64Initializer(name: string, values: bigint[]): Onnx.ITensorProto {
  const raw = new Uint8Array(BigInt64Array.from(values).buffer);
  return { name, dataType: INT64, dims: [values.length], rawData: raw };
}

/** The rewritten graph's bytes, or undefined when the graph does not have the expected shape. */
export function sliceLogitsGraph(bytes: Uint8Array): Uint8Array | undefined {
  let model: Onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch {
    return undefined;
  }
  const graph = model.graph;
  if (!graph?.node || !graph.input || !graph.output) return undefined;
  const opset = (model.opsetImport ?? []).find((entry) => !entry.domain || entry.domain === 'ai.onnx');
  // Slice takes its starts as an input from opset 10.
  if (!opset || Number(opset.version) < 10) return undefined;
  // Weights stored beside the graph are found relative to its path, which bytes do not have.
  if ((graph.initializer ?? []).some((tensor) => tensor.dataLocation === externalLocation)) return undefined;
  if (graph.input.some((input) => input.name === logitsFromInput)) return undefined;

  const producer = new Map<string, Onnx.INodeProto>();
  for (const node of graph.node) for (const output of node.output ?? []) producer.set(output, node);
  const initializers = new Set((graph.initializer ?? []).map((tensor) => tensor.name ?? ''));
  const graphInputs = new Set(graph.input.map((input) => input.name ?? ''));
  const constant = new Map<string, boolean>();
  const isConstant = (name: string, depth = 0): boolean => {
    if (initializers.has(name) && !graphInputs.has(name)) return true;
    const known = constant.get(name);
    if (known !== undefined) return known;
    const node = producer.get(name);
    const result = !!node && depth < 64 && (node.input ?? []).length > 0 && (node.input ?? []).every((input) => input === '' || isConstant(input, depth + 1));
    constant.set(name, result || (node?.opType === 'Constant'));
    return constant.get(name)!;
  };

  const projection = producer.get('logits');
  if (!projection || projection.opType !== 'MatMul' || projection.input?.length !== 2) return undefined;
  const [hidden, weights] = projection.input;
  if (!isConstant(weights)) return undefined;

  const sliced = 'kd_logits_hidden';
  const ends = 'kd_logits_slice_ends';
  const axes = 'kd_logits_slice_axes';
  graph.initializer = [...(graph.initializer ?? []), int64Initializer(ends, [2n ** 62n]), int64Initializer(axes, [1n])];
  graph.input.push({ name: logitsFromInput, type: { tensorType: { elemType: INT64, shape: { dim: [{ dimValue: 1 }] } } } });
  const slice: Onnx.INodeProto = { name: 'kd_logits_slice', opType: 'Slice', input: [hidden, logitsFromInput, ends, axes], output: [sliced] };
  const at = graph.node.indexOf(projection);
  graph.node.splice(at, 0, slice);
  projection.input = [sliced, weights];
  // The logits' sequence dimension is now the sliced one.
  for (const output of graph.output) {
    const dims = output.name === 'logits' ? output.type?.tensorType?.shape?.dim : undefined;
    if (dims && dims.length === 3) dims[1] = { dimParam: 'logits_sequence' };
  }
  graph.valueInfo = (graph.valueInfo ?? []).filter((info) => info.name !== 'logits');
  return onnx.ModelProto.encode(model).finish();
}
