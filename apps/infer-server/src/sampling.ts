// Wire sampling parameters (snake_case, OpenAI's ranges) → @kd/infer's options.
import type { RequestedSampling } from './service.js';

export interface WireSampling {
  max_tokens?: number | null;
  temperature?: number | null;
  top_k?: number | null;
  top_p?: number | null;
  min_p?: number | null;
  repetition_penalty?: number | null;
  stop?: string | string[] | null;
  seed?: number | null;
}

const seedRange = 2 ** 32;

export function toSampling(wire: WireSampling, defaults: { temperature?: number } = {}): RequestedSampling {
  const sampling: RequestedSampling = {};
  if (wire.max_tokens != null) sampling.maxNewTokens = wire.max_tokens;
  const temperature = wire.temperature ?? defaults.temperature;
  if (temperature != null) sampling.temperature = temperature;
  if (wire.top_k != null && wire.top_k > 0) sampling.topK = wire.top_k;
  if (wire.top_p != null && wire.top_p < 1) sampling.topP = wire.top_p;
  if (wire.min_p != null && wire.min_p > 0) sampling.minP = wire.min_p;
  if (wire.repetition_penalty != null && wire.repetition_penalty !== 1) sampling.repetitionPenalty = wire.repetition_penalty;
  if (wire.stop != null) sampling.stop = typeof wire.stop === 'string' ? [wire.stop] : wire.stop;
  // OpenAI takes any 64-bit seed; the generator's seed is 32-bit: fold it in.
  if (wire.seed != null) sampling.seed = ((wire.seed % seedRange) + seedRange) % seedRange;
  return sampling;
}
