// The rules for what a causal LM's ONNX graph asks for and gives back: input_ids and the
// optional attention_mask / position_ids (int64 or int32), past_key_values.{i}.key|value cache
// inputs with their heads and head size (from the graph, else from hints) and the present.{i}.*
// output that returns each one, the use_cache_branch switch of merged decoders, and the logits
// with their vocabulary size. Read from a neutral GraphDescription, so every adapter agrees.
import { SignatureError, type SignatureErrorCode } from './errors.js';
import { describeTensors, staticSize, type GraphDescription, type GraphTensor } from './graph.js';
import type { CacheShapeHints } from './hints.js';

export type IdTensorType = 'int64' | 'int32';
export type CacheTensorType = 'float32' | 'float16';
export type LogitsTensorType = 'float32' | 'float16' | 'bfloat16' | 'float64';

export interface IdInput {
  name: string;
  type: IdTensorType;
}

/** A cache input, fed [batch, heads, past, headDim]: empty on the first run. */
export interface CacheInput {
  name: string;
  type: CacheTensorType;
  heads: number;
  headDim: number;
  /** The output returning this cache grown by the new tokens (`present.{i}.key|value`), when the graph has it. */
  present?: string;
}

export interface CausalLMSignature<Logits extends LogitsTensorType = LogitsTensorType> {
  inputIds: IdInput;
  attentionMask?: IdInput;
  positionIds?: IdInput;
  /** Empty when the graph has no cache. */
  cache: CacheInput[];
  /** The boolean switch of merged decoder exports: false on the first run, true after. */
  useCacheBranch?: string;
  logits: { name: string; type: Logits };
  /** The logits' last dimension when the graph states it. */
  vocabSize?: number;
  /** The names of `extraInputs` the graph has. */
  extraInputs: string[];
}

export interface ReadSignatureOptions<Logits extends LogitsTensorType = LogitsTensorType> {
  /** Where the graph came from (its path); leads every message. */
  source?: string;
  hints?: CacheShapeHints;
  /** The logits types the caller can read (default: all four). */
  logitsTypes?: readonly Logits[];
  /** Refuse a cache input without its present output (callers that feed the cache back each step). */
  requirePresentOutputs?: boolean;
  /** Inputs the caller feeds beyond a causal LM's own, by name and element type (a rewritten graph's). */
  extraInputs?: readonly { name: string; type: string }[];
}

const idInputNames = ['input_ids', 'attention_mask', 'position_ids'] as const;
const cacheTypes: readonly string[] = ['float32', 'float16'] satisfies CacheTensorType[];
const allLogitsTypes: readonly LogitsTensorType[] = ['float32', 'float16', 'bfloat16', 'float64'];

function isIdType(type: string): type is IdTensorType {
  return type === 'int64' || type === 'int32';
}

/** The output that returns a cache input grown: `past_key_values.0.key` → `present.0.key`. */
function presentOutputName(cacheInput: string): string {
  return cacheInput.replace(/^past(_key_values)?/, 'present');
}

function orList(values: readonly string[]): string {
  return values.length <= 1 ? values.join('') : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}

/** Reads the signature; throws SignatureError E_INPUTS or E_OUTPUTS, saying what was found and what is expected. */
export function readCausalLMSignature<Logits extends LogitsTensorType = LogitsTensorType>(
  graph: GraphDescription,
  options: ReadSignatureOptions<Logits> = {},
): CausalLMSignature<Logits> {
  const { inputs, outputs } = graph;
  const hints = options.hints ?? {};
  const logitsTypes: readonly string[] = options.logitsTypes ?? allLogitsTypes;
  const expected =
    'expected input_ids (int64 or int32 [batch, sequence]), optionally attention_mask and position_ids (int64 or int32 [batch, sequence]), ' +
    `past_key_values.{i}.key|value (float32 or float16 [batch, heads, past, headDim])${options.requirePresentOutputs ? ' each with a present.{i}.key|value output' : ''} ` +
    `and use_cache_branch (bool), and an output logits (${orList(logitsTypes)} [batch, sequence, vocabulary]); ` +
    'export the model as a causal LM (e.g. optimum-cli export onnx --task text-generation-with-past)';
  const fail = (code: SignatureErrorCode, what: string): never => {
    const found = `the model's inputs are ${describeTensors(inputs) || 'none'} and its outputs ${describeTensors(outputs) || 'none'}`;
    throw new SignatureError(code, `${options.source ? `${options.source}: ` : ''}${what}; ${found}; ${expected}`);
  };
  const outputNames = new Set(outputs.map((output) => output.name));

  const ids: Partial<Record<(typeof idInputNames)[number], IdInput>> = {};
  const cache: CacheInput[] = [];
  const extraInputs: string[] = [];
  let useCacheBranch: string | undefined;
  for (const input of inputs) {
    const { name, type } = input;
    const idName = idInputNames.find((candidate) => candidate === name);
    if (idName) {
      if (!isIdType(type)) fail('E_INPUTS', `${name} has type ${type}, not int64 or int32`);
      ids[idName] = { name, type: type as IdTensorType };
    } else if (name.startsWith('past')) {
      cache.push(cacheInput(input, hints, outputNames, options.requirePresentOutputs ?? false, (what) => fail('E_INPUTS', what)));
    } else if (name === 'use_cache_branch') {
      if (type !== 'bool') fail('E_INPUTS', `use_cache_branch has type ${type}, not bool`);
      useCacheBranch = name;
    } else if (options.extraInputs?.some((extra) => extra.name === name && extra.type === type)) {
      extraInputs.push(name);
    } else {
      fail('E_INPUTS', `input ${describeTensors([input])} is not one a causal LM runner knows how to feed`);
    }
  }
  if (!ids.input_ids) return fail('E_INPUTS', 'no input named input_ids');

  const logits = outputs.find((output) => output.name === 'logits');
  if (!logits) return fail('E_OUTPUTS', 'no output named logits');
  // No shape at all is an unstated one (the caller finds the width by running); a stated one has rank 3.
  const shape = logits.shape ?? [];
  if (!logitsTypes.includes(logits.type) || (shape.length !== 0 && shape.length !== 3)) {
    return fail('E_OUTPUTS', `logits must be ${orList(logitsTypes)} [batch, sequence, vocabulary], found ${describeTensors([logits])}`);
  }
  return {
    inputIds: ids.input_ids,
    attentionMask: ids.attention_mask,
    positionIds: ids.position_ids,
    cache,
    useCacheBranch,
    logits: { name: logits.name, type: logits.type as Logits },
    vocabSize: staticSize(shape[2]),
    extraInputs,
  };
}

function cacheInput(input: GraphTensor, hints: CacheShapeHints, outputNames: Set<string>, requirePresent: boolean, fail: (what: string) => never): CacheInput {
  const { name, type } = input;
  if (!cacheTypes.includes(type)) fail(`cache input ${name} has type ${type}, not float32 or float16`);
  const shape = input.shape ?? [];
  if (shape.length !== 4) fail(`cache input ${name} has rank ${shape.length}, not 4 ([batch, heads, past, headDim])`);
  const heads = staticSize(shape[1]) ?? hints.heads;
  const headDim = staticSize(shape[3]) ?? hints.headDim;
  if (!heads || !headDim) {
    fail(`cache input ${name} leaves heads or head size symbolic ([${shape.join(', ')}]) and config.json does not give num_key_value_heads and head_dim`);
  }
  const present = presentOutputName(name);
  if (requirePresent && !outputNames.has(present)) fail(`cache input ${name} has no matching output ${present}`);
  return { name, type: type as CacheTensorType, heads: heads!, headDim: headDim!, present: outputNames.has(present) ? present : undefined };
}
