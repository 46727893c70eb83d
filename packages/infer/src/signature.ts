// What a causal LM's ONNX graph asks for and gives back, read from the loaded session's metadata:
// the id, mask and position inputs and their integer types, the KV cache inputs with the output
// that returns each one grown by the new tokens, and the logits.
import type { InferenceSession } from 'onnxruntime-node';
import { InferError } from './errors.js';
import { logitsFromInput } from './logits-slice.js';

export type IdTensorType = 'int64' | 'int32';
export type CacheTensorType = 'float32' | 'float16';

/** One cache input (`past_key_values.{i}.key|value`) and the output (`present.{i}.key|value`) that feeds it next step. */
export interface CacheSlot {
  input: string;
  output: string;
  type: CacheTensorType;
  heads: number;
  headDim: number;
}

export interface ModelSignature {
  inputIds: { name: string; type: IdTensorType };
  attentionMask?: { name: string; type: IdTensorType };
  positionIds?: { name: string; type: IdTensorType };
  /** Empty when the graph has no cache: every step then recomputes the whole sequence. */
  cache: CacheSlot[];
  /** The boolean switch of merged decoder exports: false on the first run, true after. */
  useCacheBranch?: string;
  logits: { name: string; type: 'float32' | 'float16' };
  /** The slice-start input of a graph rewritten by sliceLogitsGraph (−1: last position only, 0: all). */
  logitsFrom?: string;
  /** The logits' last dimension when the graph states it. */
  vocabSize?: number;
}

/** Cache shapes from config.json, for graphs that leave heads or head size symbolic. */
export interface CacheShapeHints {
  heads?: number;
  headDim?: number;
}

type Metadata = InferenceSession.ValueMetadata;
type TensorMetadata = Extract<Metadata, { isTensor: true }>;

function describe(values: readonly Metadata[]): string {
  return values.map((value) => (value.isTensor ? `${value.name} (${value.type} [${value.shape.join(', ')}])` : `${value.name} (not a tensor)`)).join(', ');
}

const expected =
  'expected input_ids (int64 or int32 [batch, sequence]), optionally attention_mask, position_ids and ' +
  'past_key_values.{i}.key|value with present.{i}.key|value outputs, and an output logits [batch, sequence, vocabulary]; ' +
  'export the model as a causal LM (e.g. optimum-cli export onnx --task text-generation-with-past)';

export function readSignature(session: Pick<InferenceSession, 'inputMetadata' | 'outputMetadata'>, modelPath: string, hints: CacheShapeHints = {}): ModelSignature {
  const inputs = session.inputMetadata;
  const outputs = session.outputMetadata;
  const fail = (what: string): never => {
    throw new InferError('E_MODEL_SIGNATURE', `${modelPath}: ${what}; the model's inputs are ${describe(inputs) || 'none'} and its outputs ${describe(outputs) || 'none'}; ${expected}`);
  };
  const outputByName = new Map<string, TensorMetadata>();
  for (const output of outputs) if (output.isTensor) outputByName.set(output.name, output);

  let inputIds: ModelSignature['inputIds'] | undefined;
  let attentionMask: ModelSignature['attentionMask'];
  let positionIds: ModelSignature['positionIds'];
  let useCacheBranch: string | undefined;
  let logitsFrom: string | undefined;
  const cache: CacheSlot[] = [];
  for (const input of inputs) {
    if (!input.isTensor) fail(`input ${input.name} is not a tensor`);
    const tensor = input as TensorMetadata;
    const { name, type, shape } = tensor;
    if (name === 'input_ids' || name === 'attention_mask' || name === 'position_ids') {
      if (type !== 'int64' && type !== 'int32') fail(`${name} has type ${type}, not int64 or int32`);
      const entry = { name, type: type as IdTensorType };
      if (name === 'input_ids') inputIds = entry;
      else if (name === 'attention_mask') attentionMask = entry;
      else positionIds = entry;
    } else if (name.startsWith('past_key_values')) {
      if (type !== 'float32' && type !== 'float16') fail(`cache input ${name} has type ${type}, not float32 or float16`);
      if (shape.length !== 4) fail(`cache input ${name} has rank ${shape.length}, not 4 ([batch, heads, past, headDim])`);
      const heads = typeof shape[1] === 'number' ? shape[1] : hints.heads;
      const headDim = typeof shape[3] === 'number' ? shape[3] : hints.headDim;
      if (!heads || !headDim) fail(`cache input ${name} leaves heads or head size symbolic and config.json does not give num_key_value_heads and head_dim`);
      const output = 'present' + name.slice('past_key_values'.length);
      if (!outputByName.has(output)) fail(`cache input ${name} has no matching output ${output}`);
      cache.push({ input: name, output, type: type as CacheTensorType, heads: heads!, headDim: headDim! });
    } else if (name === 'use_cache_branch' && type === 'bool') {
      useCacheBranch = name;
    } else if (name === logitsFromInput && type === 'int64') {
      logitsFrom = name;
    } else {
      fail(`input ${name} is not one a causal LM runner knows how to feed`);
    }
  }
  if (!inputIds) return fail('no input named input_ids');
  const logits = outputByName.get('logits');
  if (!logits) return fail('no output named logits');
  if ((logits.type !== 'float32' && logits.type !== 'float16') || (logits.shape.length !== 0 && logits.shape.length !== 3)) {
    return fail(`logits must be float32 or float16 [batch, sequence, vocabulary], found ${logits.type} [${logits.shape.join(', ')}]`);
  }
  const vocabSize = typeof logits.shape[2] === 'number' ? logits.shape[2] : undefined;
  return { inputIds, attentionMask, positionIds, cache, useCacheBranch, logits: { name: 'logits', type: logits.type }, logitsFrom, vocabSize };
}
