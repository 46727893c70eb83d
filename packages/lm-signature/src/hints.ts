// Cache shapes from a Hugging Face config.json, for graphs that leave the cache's heads or head
// size symbolic: grouped-query models cache num_key_value_heads heads, and a model without
// head_dim splits hidden_size evenly over its attention heads.

/** Fallbacks for the cache's [batch, heads, past, headDim] when the graph leaves them symbolic. */
export interface CacheShapeHints {
  heads?: number;
  headDim?: number;
}

/** The config.json fields the hints come from (already validated by the caller). */
export interface CacheShapeConfig {
  num_attention_heads?: number;
  num_key_value_heads?: number;
  hidden_size?: number;
  head_dim?: number | null;
}

export function cacheShapeHints(config: CacheShapeConfig): CacheShapeHints {
  const heads = config.num_key_value_heads ?? config.num_attention_heads;
  const split = config.hidden_size && config.num_attention_heads ? config.hidden_size / config.num_attention_heads : undefined;
  // An uneven split is no head size; the graph's own shape (or an error naming head_dim) decides then.
  const headDim = config.head_dim ?? (split !== undefined && Number.isInteger(split) ? split : undefined);
  return { heads, headDim };
}
