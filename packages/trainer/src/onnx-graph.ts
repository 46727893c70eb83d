// A small builder for ONNX graphs on top of the protobuf definitions: named initializers,
// nodes with generated output names, typed inputs and outputs with symbolic dimensions, and
// (for graphs only onnxruntime runs, such as the training graph) operators of other domains.
import onnxProto from 'onnx-proto';
import type { onnx as onnxTypes } from 'onnx-proto';

const { onnx } = onnxProto;

type Attribute = number | number[] | { float: number } | { string: string };
export type Dimension = number | string;
export type ElementType = 'float' | 'int64' | 'int32';

const elementTypes: Record<ElementType, number> = {
  float: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
};

function encodeAttribute(name: string, value: Attribute): onnxTypes.IAttributeProto {
  if (Array.isArray(value)) return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: value };
  if (typeof value === 'number') return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
  if ('string' in value) return { name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(value.string) };
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: value.float };
}

function valueInfo(name: string, elemType: number, dims: Dimension[]): onnxTypes.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })) } } },
  };
}

export class GraphBuilder {
  private readonly nodes: onnxTypes.INodeProto[] = [];
  private readonly initializers: onnxTypes.ITensorProto[] = [];
  private readonly inputs: onnxTypes.IValueInfoProto[] = [];
  private readonly outputs: onnxTypes.IValueInfoProto[] = [];
  private readonly domains = new Map<string, number>();
  private counter = 0;

  input(name: string, type: ElementType, dims: Dimension[]): string {
    this.inputs.push(valueInfo(name, elementTypes[type], dims));
    return name;
  }

  output(name: string, type: ElementType, dims: Dimension[]): void {
    this.outputs.push(valueInfo(name, elementTypes[type], dims));
  }

  /** A name not used before in this graph, for initializers built by shared fragments. */
  unique(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  /** Declares an operator domain besides the default one (e.g. `com.microsoft`, version 1). */
  useDomain(domain: string, version: number): void {
    this.domains.set(domain, version);
  }

  /** A float32 initializer. */
  floats(name: string, values: Float32Array, dims: number[]): string {
    this.initializers.push({ name, dataType: onnx.TensorProto.DataType.FLOAT, dims, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) });
    return name;
  }

  /** An int64 initializer (a scalar when dims is []). */
  ints(name: string, values: number[], dims: number[] = [values.length]): string {
    const data = BigInt64Array.from(values.map((value) => BigInt(value)));
    this.initializers.push({ name, dataType: onnx.TensorProto.DataType.INT64, dims, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  /** Adds a node; returns its output names (generated unless given). */
  node(opType: string, inputs: string[], attributes: Record<string, Attribute> = {}, outputs?: string[] | number, domain?: string): string[] {
    const names = Array.isArray(outputs) ? outputs : Array.from({ length: outputs ?? 1 }, () => `/${opType}_${this.counter++}`);
    this.nodes.push({
      opType,
      ...(domain ? { domain } : {}),
      name: `${opType}_${this.counter++}`,
      input: inputs,
      output: names,
      attribute: Object.entries(attributes).map(([name, value]) => encodeAttribute(name, value)),
    });
    return names;
  }

  /** Single-output shorthand. */
  op(opType: string, inputs: string[], attributes: Record<string, Attribute> = {}, output?: string): string {
    return this.node(opType, inputs, attributes, output ? [output] : 1)[0];
  }

  encode(options: { name: string; producer: string; opset: number }): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: options.producer,
      opsetImport: [{ domain: '', version: options.opset }, ...[...this.domains].map(([domain, version]) => ({ domain, version }))],
      graph: { name: options.name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
