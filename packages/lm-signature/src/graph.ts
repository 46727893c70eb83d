// The neutral description of an ONNX graph's inputs and outputs that the signature rules read:
// each adapter (an onnxruntime session's metadata, a decoded onnx-proto model) maps its own
// metadata to this, so the rules are written once.

/** One graph input or output. */
export interface GraphTensor {
  name: string;
  /** Element type in onnxruntime's words ('float32', 'int64', 'bool', …), or what the value is when not a tensor. */
  type: string;
  /** Static size or symbolic name per dimension; absent when the graph states no shape. */
  shape?: readonly (number | string)[];
}

export interface GraphDescription {
  inputs: readonly GraphTensor[];
  outputs: readonly GraphTensor[];
}

/** A dimension's static size, or undefined when it is symbolic or unknown. */
export function staticSize(dimension: number | string | undefined): number | undefined {
  return typeof dimension === 'number' && Number.isInteger(dimension) && dimension > 0 ? dimension : undefined;
}

/** `name (type [d0, d1])` per value, for messages that show what a graph holds. */
export function describeTensors(values: readonly GraphTensor[]): string {
  return values.map((value) => (value.shape ? `${value.name} (${value.type} [${value.shape.join(', ')}])` : `${value.name} (${value.type})`)).join(', ');
}
