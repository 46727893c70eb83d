// The teacher's reading of a causal LM's signature: a decoded ONNX model described for
// @kd/lm-signature's rules (initializers listed among the inputs left out), its opset, and the
// rules' refusals under the teacher's own codes.
import { readCausalLMSignature, SignatureError, type CacheShapeHints, type CacheTensorType, type GraphTensor, type IdTensorType, type LogitsTensorType } from '@kd/lm-signature';
import type { onnx } from 'onnx-proto';
import { TeacherError } from './errors.js';

export type { CacheShapeHints, IdTensorType };
export type FloatTensorType = CacheTensorType;

/** A cache input (`past_key_values.{i}.key|value`): fed as an empty [batch, heads, 0, headDim] tensor. */
export interface PastInput {
  name: string;
  type: FloatTensorType;
  heads: number;
  headDim: number;
}

export interface ModelSignature {
  inputIds: { name: string; type: IdTensorType };
  attentionMask?: { name: string; type: IdTensorType };
  positionIds?: { name: string; type: IdTensorType };
  past: PastInput[];
  /** The boolean switch of merged decoder exports; fed `false` (no cache yet). */
  useCacheBranch?: string;
  logits: { name: string; type: LogitsTensorType };
  /** The logits' last dimension when the graph states it. */
  vocabSize?: number;
  /** The default-domain opset the graph was exported with. */
  opset: number;
}

const elementTypes: Record<number, string> = { 1: 'float32', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64', 16: 'bfloat16' };

type Long = { toNumber(): number };
function toNumber(value: number | Long | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

function graphTensor(value: onnx.IValueInfoProto): GraphTensor {
  const tensor = value.type?.tensorType;
  if (!tensor) return { name: value.name ?? '', type: 'not a tensor' };
  const shape = tensor.shape ? (tensor.shape.dim ?? []).map((dim) => (dim.dimParam ? dim.dimParam : toNumber(dim.dimValue) || '?')) : undefined;
  return { name: value.name ?? '', type: elementTypes[tensor.elemType ?? 0] ?? `type ${tensor.elemType ?? '?'}`, shape };
}

/** Reads the signature from a decoded model; throws E_MODEL_INPUTS / E_MODEL_OUTPUTS when it cannot be driven. */
export function readSignature(model: onnx.IModelProto, modelPath: string, hints: CacheShapeHints = {}): ModelSignature {
  const graph = model.graph;
  if (!graph) throw new TeacherError('E_MODEL_FORMAT', `${modelPath}: the ONNX file holds no graph; export the model again`);
  // Older IR versions list initializers among the inputs; those are weights, not feeds.
  const initializers = new Set((graph.initializer ?? []).map((tensor) => tensor.name));
  const inputs = (graph.input ?? []).filter((input) => !initializers.has(input.name)).map(graphTensor);
  const outputs = (graph.output ?? []).map(graphTensor);
  let read;
  try {
    read = readCausalLMSignature({ inputs, outputs }, { source: modelPath, hints });
  } catch (cause) {
    if (!(cause instanceof SignatureError)) throw cause;
    throw new TeacherError(cause.code === 'E_OUTPUTS' ? 'E_MODEL_OUTPUTS' : 'E_MODEL_INPUTS', cause.message, { cause });
  }
  const opsetEntry = (model.opsetImport ?? []).find((entry) => !entry.domain || entry.domain === 'ai.onnx');
  return {
    inputIds: read.inputIds,
    attentionMask: read.attentionMask,
    positionIds: read.positionIds,
    past: read.cache.map(({ name, type, heads, headDim }) => ({ name, type, heads, headDim })),
    useCacheBranch: read.useCacheBranch,
    logits: read.logits,
    vocabSize: read.vocabSize,
    opset: toNumber(opsetEntry?.version),
  };
}
