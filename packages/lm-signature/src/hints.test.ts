import { describe, expect, it } from 'vitest';
import { cacheShapeHints } from './hints.js';

describe('cacheShapeHints', () => {
  it('caches the key/value heads of a grouped-query model and its stated head size', () => {
    expect(cacheShapeHints({ num_attention_heads: 16, num_key_value_heads: 8, hidden_size: 2048, head_dim: 128 })).toEqual({ heads: 8, headDim: 128 });
  });

  it('splits hidden_size over the attention heads when head_dim is absent or null', () => {
    expect(cacheShapeHints({ num_attention_heads: 12, hidden_size: 768 })).toEqual({ heads: 12, headDim: 64 });
    expect(cacheShapeHints({ num_attention_heads: 12, hidden_size: 768, head_dim: null })).toEqual({ heads: 12, headDim: 64 });
  });

  it('gives no head size for an uneven split or a config without the fields', () => {
    expect(cacheShapeHints({ num_attention_heads: 7, hidden_size: 768 })).toEqual({ heads: 7, headDim: undefined });
    expect(cacheShapeHints({})).toEqual({ heads: undefined, headDim: undefined });
  });
});
