// What a causal LM's ONNX graph asks for and gives back, read from the model itself, so the
// teacher can drive any export: int64 or int32 ids, optional attention mask and position ids,
// a KV cache fed empty, fp32 or fp16 logits.
import type { onnx } from 'onnx-proto';
import { TeacherError } from './errors.js';

export type IdTensorType = 'int64' | 'int32';
export type FloatTensorType = 'float32' | 'float16';

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
  logits: { name: string; type: FloatTensorType | 'bfloat16' | 'float64' };
  /** The logits' last dimension when the graph states it. */
  vocabSize?: number;
  /** The default-domain opset the graph was exported with. */
  opset: number;
}

/** Fallbacks for cache shapes from config.json when the graph leaves them symbolic. */
export interface CacheShapeHints {
  heads?: number;
  headDim?: number;
}

const elementTypes: Record<number, string> = { 1: 'float32', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64', 16: 'bfloat16' };

type Long = { toNumber(): number };
function toNumber(value: number | Long | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

interface TensorInfo {
  name: string;
  type: string;
  /** Static size, or a symbolic name, per dimension. */
  shape: (number | string)[];
}

function tensorInfo(value: onnx.IValueInfoProto): TensorInfo {
  const tensor = value.type?.tensorType;
  const shape = (tensor?.shape?.dim ?? []).map((dim) => (dim.dimParam ? dim.dimParam : toNumber(dim.dimValue) || '?'));
  return { name: value.name ?? '', type: elementTypes[tensor?.elemType ?? 0] ?? `type ${tensor?.elemType ?? '?'}`, shape };
}

function describe(values: TensorInfo[]): string {
  return values.map((value) => `${value.name} (${value.type} [${value.shape.join(', ')}])`).join(', ');
}

function isIdType(type: string): type is IdTensorType {
  return type === 'int64' || type === 'int32';
}

/** Reads the signature from a decoded model; throws E_MODEL_INPUTS / E_MODEL_OUTPUTS when it cannot be driven. */
export function readSignature(model: onnx.IModelProto, modelPath: string, hints: CacheShapeHints = {}): ModelSignature {
  const graph = model.graph;
  if (!graph) throw new TeacherError('E_MODEL_FORMAT', `${modelPath}: the ONNX file holds no graph; export the model again`);
  // Older IR versions list initializers among the inputs; those are weights, not feeds.
  const initializers = new Set((graph.initializer ?? []).map((tensor) => tensor.name));
  const inputs = (graph.input ?? []).filter((input) => !initializers.has(input.name)).map(tensorInfo);
  const outputs = (graph.output ?? []).map(tensorInfo);
  const expected =
    'expected input_ids (int64 or int32 [batch, sequence]), optionally attention_mask, position_ids, ' +
    'past_key_values.{i}.key|value (float [batch, heads, past, headDim]) and use_cache_branch; ' +
    'export the model as a causal LM (e.g. optimum-cli export onnx --task text-generation)';
  const fail = (what: string): never => {
    throw new TeacherError('E_MODEL_INPUTS', `${modelPath}: ${what}; the model's inputs are ${describe(inputs) || 'none'}; ${expected}`);
  };

  let inputIds: ModelSignature['inputIds'] | undefined;
  let attentionMask: ModelSignature['attentionMask'];
  let positionIds: ModelSignature['positionIds'];
  let useCacheBranch: string | undefined;
  const past: PastInput[] = [];
  for (const input of inputs) {
    if (input.name === 'input_ids' || input.name === 'attention_mask' || input.name === 'position_ids') {
      if (!isIdType(input.type)) fail(`${input.name} has type ${input.type}, not int64 or int32`);
      const entry = { name: input.name, type: input.type as IdTensorType };
      if (input.name === 'input_ids') inputIds = entry;
      else if (input.name === 'attention_mask') attentionMask = entry;
      else positionIds = entry;
    } else if (input.name.startsWith('past')) {
      if (input.type !== 'float32' && input.type !== 'float16') fail(`cache input ${input.name} has type ${input.type}, not float32 or float16`);
      if (input.shape.length !== 4) fail(`cache input ${input.name} has rank ${input.shape.length}, not 4`);
      const heads = typeof input.shape[1] === 'number' ? input.shape[1] : hints.heads;
      const headDim = typeof input.shape[3] === 'number' ? input.shape[3] : hints.headDim;
      if (!heads || !headDim) {
        fail(`cache input ${input.name} leaves heads or head size symbolic and config.json does not give num_key_value_heads and head_dim`);
      }
      past.push({ name: input.name, type: input.type as FloatTensorType, heads: heads!, headDim: headDim! });
    } else if (input.name === 'use_cache_branch' && input.type === 'bool') {
      useCacheBranch = input.name;
    } else {
      fail(`input ${input.name} is not one the teacher knows how to feed`);
    }
  }
  if (!inputIds) return fail('no input named input_ids');

  const logits = outputs.find((output) => output.name === 'logits');
  if (!logits) {
    throw new TeacherError('E_MODEL_OUTPUTS', `${modelPath}: expected an output named logits [batch, sequence, vocabulary]; the model's outputs are ${describe(outputs) || 'none'}`);
  }
  if (!['float32', 'float16', 'bfloat16', 'float64'].includes(logits.type) || logits.shape.length !== 3) {
    throw new TeacherError('E_MODEL_OUTPUTS', `${modelPath}: expected logits as a float tensor [batch, sequence, vocabulary], found ${describe([logits])}`);
  }
  const opsetEntry = (model.opsetImport ?? []).find((entry) => !entry.domain || entry.domain === 'ai.onnx');
  const vocabSize = typeof logits.shape[2] === 'number' ? logits.shape[2] : undefined;
  return {
    inputIds,
    attentionMask,
    positionIds,
    past,
    useCacheBranch,
    logits: { name: logits.name, type: logits.type as ModelSignature['logits']['type'] },
    vocabSize,
    opset: toNumber(opsetEntry?.version),
  };
}
