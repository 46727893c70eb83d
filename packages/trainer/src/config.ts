// The student's architecture: sizes of a Llama-style decoder, validated at the edge
// (CLI flags, config files, checkpoints) and derived fields filled in once.
import { z } from 'zod';
import { TrainerError } from './errors.js';

export const modelConfigSchema = z
  .object({
    vocabSize: z.number().int().positive(),
    hiddenSize: z.number().int().positive(),
    intermediateSize: z.number().int().positive(),
    layers: z.number().int().positive(),
    heads: z.number().int().positive(),
    /** Fewer key/value heads than query heads gives grouped-query attention; default: `heads`. */
    keyValueHeads: z.number().int().positive().optional(),
    maxPositions: z.number().int().positive().default(1024),
    ropeTheta: z.number().positive().default(10000),
    rmsNormEpsilon: z.number().positive().default(1e-5),
    initializerRange: z.number().positive().default(0.02),
    bosTokenId: z.number().int().nonnegative().optional(),
    eosTokenId: z.number().int().nonnegative().optional(),
    padTokenId: z.number().int().nonnegative().optional(),
    /** Derived (hiddenSize / heads); accepted so a resolved config validates again. */
    headSize: z.number().int().positive().optional(),
  })
  .strict();

export type ModelConfigInput = z.input<typeof modelConfigSchema>;

export interface ModelConfig {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  layers: number;
  heads: number;
  keyValueHeads: number;
  headSize: number;
  maxPositions: number;
  ropeTheta: number;
  rmsNormEpsilon: number;
  initializerRange: number;
  bosTokenId?: number;
  eosTokenId?: number;
  padTokenId?: number;
}

/** Validates sizes and fills defaults; throws E_CONFIG with the offending field. */
export function resolveModelConfig(input: ModelConfigInput): ModelConfig {
  const parsed = modelConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TrainerError('E_CONFIG', `model config: ${issue?.path.join('.') || 'value'}: ${issue?.message ?? 'invalid'}`);
  }
  const config = parsed.data;
  const keyValueHeads = config.keyValueHeads ?? config.heads;
  if (config.hiddenSize % config.heads !== 0) {
    throw new TrainerError('E_CONFIG', `model config: hiddenSize ${config.hiddenSize} must be a multiple of heads ${config.heads}`);
  }
  if (config.heads % keyValueHeads !== 0) {
    throw new TrainerError('E_CONFIG', `model config: heads ${config.heads} must be a multiple of keyValueHeads ${keyValueHeads}`);
  }
  const headSize = config.hiddenSize / config.heads;
  if (headSize % 2 !== 0) {
    throw new TrainerError('E_CONFIG', `model config: head size ${headSize} (hiddenSize / heads) must be even for rotary embeddings`);
  }
  if (config.headSize !== undefined && config.headSize !== headSize) {
    throw new TrainerError('E_CONFIG', `model config: headSize ${config.headSize} differs from hiddenSize / heads = ${headSize}`);
  }
  return { ...config, keyValueHeads, headSize };
}

/** Number of trainable parameters (embeddings tied, so counted once). */
export function parameterCount(config: ModelConfig): number {
  const attention = config.hiddenSize * config.headSize * (2 * config.heads + 2 * config.keyValueHeads);
  const mlp = 3 * config.hiddenSize * config.intermediateSize;
  const perLayer = attention + mlp + 2 * config.hiddenSize;
  return config.vocabSize * config.hiddenSize + config.layers * perLayer + config.hiddenSize;
}
