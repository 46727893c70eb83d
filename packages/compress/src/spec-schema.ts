// The compression spec as a zod schema: the one declaration of the modes and their options
// (descriptions and defaults included) that config files, the CLI's flags and `validateSpec`
// callers share. Each mode is a strict object, so a key of another mode is refused by name.
import { z } from 'zod';
import { DEFAULT_K_MAX, DEFAULT_K_MIN, MAX_SAMPLES } from './spec.js';

const count = z.number().int().min(1).max(0xffffffff);

const head = {
  p: z.number().gt(0).lte(1).default(0.95).describe('keep the fewest tokens whose probabilities add up to p'),
  kMin: count.default(DEFAULT_K_MIN).describe('keep at least this many tokens'),
  kMax: count.default(DEFAULT_K_MAX).describe('keep at most this many tokens'),
};

const sampling = {
  samples: z.number().int().min(1).max(MAX_SAMPLES).default(12).describe('draws per position (hybrid: from outside the adaptive head)'),
  proposalTemperature: z.number().positive().finite().default(1).describe('draw from p^(1/t), importance-weighted back to p'),
  // 2²⁴: the seed travels as a float32 attribute of the teacher graph's Multinomial node.
  seed: z.number().int().min(0).lt(2 ** 24).default(0).describe('seed of the draws'),
};

const headOrder = (spec: { kMin: number; kMax: number }) => spec.kMin <= spec.kMax;
const headOrderIssue = { message: 'kMin must not exceed kMax', path: ['kMin'] };

export const fixedSpecSchema = z
  .object({
    mode: z.literal('fixed'),
    k: count.default(32).describe('keep the k most probable tokens of every position'),
  })
  .strict();

export const adaptiveSpecSchema = z
  .object({ mode: z.literal('adaptive'), ...head })
  .strict()
  .refine(headOrder, headOrderIssue);

export const sampledSpecSchema = z.object({ mode: z.literal('sampled'), ...sampling }).strict();

export const hybridSpecSchema = z
  .object({ mode: z.literal('hybrid'), ...head, ...sampling })
  .strict()
  .refine(headOrder, headOrderIssue);

/** Every compression mode; `mode` picks one. */
export const compressionSpecSchema = z
  .discriminatedUnion('mode', [fixedSpecSchema, adaptiveSpecSchema, sampledSpecSchema, hybridSpecSchema])
  .describe('which probabilities to keep per position');

export type CompressionSpecInput = z.input<typeof compressionSpecSchema>;
