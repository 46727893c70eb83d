// Turns a padded batch of token ids into the feeds a model's signature asks for: ids and mask
// in the model's integer type, positions 0..T−1, and an empty KV cache.
import { Tensor } from 'onnxruntime-node';
import type { IdTensorType, ModelSignature } from './signature.js';

/** A right-padded batch: row b holds lengths[b] real tokens, then padding. */
export interface PaddedBatch {
  batch: number;
  sequence: number;
  /** batch × sequence token ids (padding included). */
  ids: Int32Array;
  /** batch × sequence: 1 for a real token, 0 for padding. */
  mask: Uint8Array;
}

function idTensor(type: IdTensorType, values: ArrayLike<number>, dims: number[]): Tensor {
  if (type === 'int32') return new Tensor('int32', Int32Array.from(values), dims);
  const data = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i]);
  return new Tensor('int64', data, dims);
}

export function buildFeeds(signature: ModelSignature, batch: PaddedBatch): Record<string, Tensor> {
  const dims = [batch.batch, batch.sequence];
  const feeds: Record<string, Tensor> = { [signature.inputIds.name]: idTensor(signature.inputIds.type, batch.ids, dims) };
  if (signature.attentionMask) feeds[signature.attentionMask.name] = idTensor(signature.attentionMask.type, batch.mask, dims);
  if (signature.positionIds) {
    // Padding sits after the real tokens, so counting 0..T−1 on every row gives each real token
    // its true position; what padding gets does not reach real tokens under a causal mask.
    const positions = new Int32Array(batch.batch * batch.sequence);
    for (let b = 0; b < batch.batch; b++) for (let t = 0; t < batch.sequence; t++) positions[b * batch.sequence + t] = t;
    feeds[signature.positionIds.name] = idTensor(signature.positionIds.type, positions, dims);
  }
  for (const past of signature.past) {
    const empty = past.type === 'float16' ? new Uint16Array(0) : new Float32Array(0);
    feeds[past.name] = new Tensor(past.type, empty, [batch.batch, past.heads, 0, past.headDim]);
  }
  if (signature.useCacheBranch) feeds[signature.useCacheBranch] = new Tensor('bool', new Uint8Array([0]), [1]);
  return feeds;
}
