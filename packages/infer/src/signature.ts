// The runner's reading of a causal LM's signature: the loaded session's metadata described for
// @kd/lm-signature's rules, which also pair each cache input with the present.* output fed back
// as the next step's cache, plus the kd_logits_from input of a graph rewritten by logits-slice.ts,
// and the rules' refusals as E_MODEL_SIGNATURE.
import { readCausalLMSignature, SignatureError, type CacheShapeHints, type CacheTensorType, type GraphTensor, type IdTensorType } from '@kd/lm-signature';
import type { InferenceSession } from 'onnxruntime-node';
import { InferError } from './errors.js';
import { logitsFromInput } from './logits-slice.js';

export type { CacheShapeHints, CacheTensorType, IdTensorType };

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
  /** Read in JavaScript, so only the types onnxruntime-node hands over as float arrays. */
  logits: { name: string; type: 'float32' | 'float16' };
  /** The slice-start input of a graph rewritten by sliceLogitsGraph (−1: last position only, 0: all). */
  logitsFrom?: string;
  /** The logits' last dimension when the graph states it. */
  vocabSize?: number;
}

function graphTensor(value: InferenceSession.ValueMetadata): GraphTensor {
  return value.isTensor ? { name: value.name, type: value.type, shape: value.shape } : { name: value.name, type: 'not a tensor' };
}

export function readSignature(session: Pick<InferenceSession, 'inputMetadata' | 'outputMetadata'>, modelPath: string, hints: CacheShapeHints = {}): ModelSignature {
  const graph = { inputs: session.inputMetadata.map(graphTensor), outputs: session.outputMetadata.map(graphTensor) };
  let read;
  try {
    read = readCausalLMSignature(graph, {
      source: modelPath,
      hints,
      logitsTypes: ['float32', 'float16'],
      requirePresentOutputs: true,
      extraInputs: [{ name: logitsFromInput, type: 'int64' }],
    });
  } catch (cause) {
    if (!(cause instanceof SignatureError)) throw cause;
    throw new InferError('E_MODEL_SIGNATURE', cause.message, { cause });
  }
  return {
    inputIds: read.inputIds,
    attentionMask: read.attentionMask,
    positionIds: read.positionIds,
    // requirePresentOutputs: every slot has its output.
    cache: read.cache.map((slot) => ({ input: slot.name, output: slot.present!, type: slot.type, heads: slot.heads, headDim: slot.headDim })),
    useCacheBranch: read.useCacheBranch,
    logits: read.logits,
    logitsFrom: read.extraInputs.includes(logitsFromInput) ? logitsFromInput : undefined,
    vocabSize: read.vocabSize,
  };
}
