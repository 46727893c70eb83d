import { describe, expect, it } from 'vitest';
import { SignatureError } from './errors.js';
import type { GraphDescription, GraphTensor } from './graph.js';
import { readCausalLMSignature, type ReadSignatureOptions } from './signature.js';

const ids = (name = 'input_ids', type = 'int64'): GraphTensor => ({ name, type, shape: ['batch_size', 'sequence_length'] });
const logits = (type = 'float32', shape: (number | string)[] = ['batch_size', 'sequence_length', 32000]): GraphTensor => ({ name: 'logits', type, shape });

/** The cache inputs and present outputs of `layers` layers, as optimum exports them. */
function cacheOf(layers: number, heads: number | string = 4, headDim: number | string = 16): { inputs: GraphTensor[]; outputs: GraphTensor[] } {
  const inputs: GraphTensor[] = [];
  const outputs: GraphTensor[] = [];
  for (let layer = 0; layer < layers; layer++) {
    for (const part of ['key', 'value']) {
      inputs.push({ name: `past_key_values.${layer}.${part}`, type: 'float32', shape: ['batch_size', heads, 'past_sequence_length', headDim] });
      outputs.push({ name: `present.${layer}.${part}`, type: 'float32', shape: ['batch_size', heads, 'total_sequence_length', headDim] });
    }
  }
  return { inputs, outputs };
}

function refusal(graph: GraphDescription, options?: ReadSignatureOptions): SignatureError {
  try {
    readCausalLMSignature(graph, options);
  } catch (error) {
    expect(error).toBeInstanceOf(SignatureError);
    return error as SignatureError;
  }
  throw new Error('expected the signature to be refused');
}

describe('readCausalLMSignature', () => {
  it('reads a typical Hugging Face export with past: ids, mask, positions, cache paired with present outputs, vocabulary', () => {
    const cache = cacheOf(2);
    const signature = readCausalLMSignature({
      inputs: [ids(), ids('attention_mask'), ids('position_ids'), ...cache.inputs],
      outputs: [logits(), ...cache.outputs],
    });
    expect(signature.inputIds).toEqual({ name: 'input_ids', type: 'int64' });
    expect(signature.attentionMask).toEqual({ name: 'attention_mask', type: 'int64' });
    expect(signature.positionIds).toEqual({ name: 'position_ids', type: 'int64' });
    expect(signature.cache.map((slot) => [slot.name, slot.present, slot.heads, slot.headDim])).toEqual([
      ['past_key_values.0.key', 'present.0.key', 4, 16],
      ['past_key_values.0.value', 'present.0.value', 4, 16],
      ['past_key_values.1.key', 'present.1.key', 4, 16],
      ['past_key_values.1.value', 'present.1.value', 4, 16],
    ]);
    expect(signature.useCacheBranch).toBeUndefined();
    expect(signature.logits).toEqual({ name: 'logits', type: 'float32' });
    expect(signature.vocabSize).toBe(32000);
  });

  it('reads a merged decoder: use_cache_branch, fp16 cache and logits', () => {
    const cache = cacheOf(1);
    const half = (tensor: GraphTensor): GraphTensor => ({ ...tensor, type: 'float16' });
    const signature = readCausalLMSignature({
      inputs: [ids(), ids('attention_mask'), ...cache.inputs.map(half), { name: 'use_cache_branch', type: 'bool', shape: [1] }],
      outputs: [logits('float16'), ...cache.outputs.map(half)],
    });
    expect(signature.useCacheBranch).toBe('use_cache_branch');
    expect(signature.cache.map((slot) => slot.type)).toEqual(['float16', 'float16']);
    expect(signature.logits.type).toBe('float16');
    expect(signature.positionIds).toBeUndefined();
  });

  it('keeps int32 ids as int32', () => {
    const signature = readCausalLMSignature({ inputs: [ids('input_ids', 'int32'), ids('attention_mask', 'int32')], outputs: [logits()] });
    expect(signature.inputIds.type).toBe('int32');
    expect(signature.attentionMask?.type).toBe('int32');
    expect(signature.cache).toEqual([]);
  });

  it('takes symbolic heads and head size from the hints, and the graph over the hints where it states them', () => {
    const symbolic = cacheOf(1, 'num_heads', 'head_dim');
    const resolved = readCausalLMSignature({ inputs: [ids(), ...symbolic.inputs], outputs: [logits(), ...symbolic.outputs] }, { hints: { heads: 2, headDim: 64 } });
    expect(resolved.cache.map((slot) => [slot.heads, slot.headDim])).toEqual([
      [2, 64],
      [2, 64],
    ]);
    const stated = cacheOf(1, 8, 'head_dim');
    const mixed = readCausalLMSignature({ inputs: [ids(), ...stated.inputs], outputs: [logits(), ...stated.outputs] }, { hints: { heads: 2, headDim: 64 } });
    expect(mixed.cache[0]).toMatchObject({ heads: 8, headDim: 64 });
  });

  it('refuses symbolic heads without hints, naming the shape and the config.json fields', () => {
    const symbolic = cacheOf(1, 'num_heads', 16);
    const error = refusal({ inputs: [ids(), ...symbolic.inputs], outputs: [logits(), ...symbolic.outputs] }, { hints: { headDim: 16 } });
    expect(error.code).toBe('E_INPUTS');
    expect(error.message).toContain('past_key_values.0.key leaves heads or head size symbolic ([batch_size, num_heads, past_sequence_length, 16])');
    expect(error.message).toContain('num_key_value_heads and head_dim');
  });

  it('refuses a graph without input_ids, listing what it has and what is expected', () => {
    const error = refusal({ inputs: [ids('tokens', 'int32')], outputs: [logits()] }, { source: 'model.onnx' });
    expect(error.code).toBe('E_INPUTS');
    expect(error.message).toMatch(/^model\.onnx: input tokens \(int32 \[batch_size, sequence_length\]\) is not one/);
    expect(error.message).toContain('expected input_ids (int64 or int32 [batch, sequence])');
    expect(error.message).toContain('optimum-cli export onnx --task text-generation-with-past');
    expect(refusal({ inputs: [ids('attention_mask')], outputs: [logits()] }).message).toMatch(/^no input named input_ids; the model's inputs are attention_mask/);
  });

  it('refuses ids, cache and switch inputs of the wrong type or rank', () => {
    expect(refusal({ inputs: [ids('input_ids', 'float32')], outputs: [logits()] }).message).toMatch(/^input_ids has type float32, not int64 or int32/);
    const cache = cacheOf(1);
    const asInt = { ...cache.inputs[0], type: 'int64' };
    expect(refusal({ inputs: [ids(), asInt], outputs: [logits(), ...cache.outputs] }).message).toContain('cache input past_key_values.0.key has type int64, not float32 or float16');
    const rank3 = { ...cache.inputs[0], shape: [1, 4, 16] };
    expect(refusal({ inputs: [ids(), rank3], outputs: [logits()] }).message).toContain('has rank 3, not 4');
    const intSwitch = { name: 'use_cache_branch', type: 'int64', shape: [1] };
    expect(refusal({ inputs: [ids(), intSwitch], outputs: [logits()] }).message).toContain('use_cache_branch has type int64, not bool');
  });

  it('refuses a graph without logits, or logits of a type or rank the caller cannot read', () => {
    const scores = { ...logits(), name: 'scores' };
    const missing = refusal({ inputs: [ids()], outputs: [scores] });
    expect(missing.code).toBe('E_OUTPUTS');
    expect(missing.message).toContain('no output named logits');
    expect(missing.message).toContain('its outputs scores (float32 [batch_size, sequence_length, 32000])');
    const rank2 = refusal({ inputs: [ids()], outputs: [logits('float32', ['batch_size', 32000])] });
    expect(rank2.code).toBe('E_OUTPUTS');
    expect(rank2.message).toContain('found logits (float32 [batch_size, 32000])');
    const integer = refusal({ inputs: [ids()], outputs: [logits('int64')] });
    expect(integer.message).toContain('logits must be float32, float16, bfloat16 or float64');
    const bfloat = refusal({ inputs: [ids()], outputs: [logits('bfloat16')] }, { logitsTypes: ['float32', 'float16'] });
    expect(bfloat.message).toContain('logits must be float32 or float16 [batch, sequence, vocabulary], found logits (bfloat16');
    expect(readCausalLMSignature({ inputs: [ids()], outputs: [logits('bfloat16')] }).logits.type).toBe('bfloat16');
  });

  it('leaves the vocabulary size unset when the graph does not state it', () => {
    expect(readCausalLMSignature({ inputs: [ids()], outputs: [logits('float32', ['batch', 'sequence', 'vocab'])] }).vocabSize).toBeUndefined();
    expect(readCausalLMSignature({ inputs: [ids()], outputs: [{ name: 'logits', type: 'float32' }] }).vocabSize).toBeUndefined();
  });

  it('requires present outputs only when asked, and says which one is missing', () => {
    const cache = cacheOf(1);
    const graph = { inputs: [ids(), ...cache.inputs], outputs: [logits(), cache.outputs[0]] };
    expect(readCausalLMSignature(graph).cache.map((slot) => slot.present)).toEqual(['present.0.key', undefined]);
    const error = refusal(graph, { requirePresentOutputs: true });
    expect(error.message).toContain('cache input past_key_values.0.value has no matching output present.0.value');
    expect(error.message).toContain('each with a present.{i}.key|value output');
  });

  it("accepts the caller's extra inputs by name and type, and nothing else", () => {
    const extra = { name: 'kd_logits_from', type: 'int64', shape: [1] };
    const options = { extraInputs: [{ name: 'kd_logits_from', type: 'int64' }] };
    expect(readCausalLMSignature({ inputs: [ids(), extra], outputs: [logits()] }, options).extraInputs).toEqual(['kd_logits_from']);
    expect(readCausalLMSignature({ inputs: [ids()], outputs: [logits()] }, options).extraInputs).toEqual([]);
    expect(refusal({ inputs: [ids(), { ...extra, type: 'int32' }], outputs: [logits()] }, options).message).toContain('input kd_logits_from (int32 [1]) is not one');
    expect(refusal({ inputs: [ids(), { name: 'state', type: 'not a tensor' }], outputs: [logits()] }).message).toContain('input state (not a tensor) is not one');
  });
});
