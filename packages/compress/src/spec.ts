// Checks a compression spec once, at the edge (config file, CLI flag, API call), so that the
// selection kernels can trust it.

import { CompressError } from './errors.js';
import type { CompressionSpec } from './types.js';

/** Adaptive mode keeps at least this many entries when the caller does not say. */
export const DEFAULT_K_MIN = 1;
/** Adaptive mode keeps at most this many entries when the caller does not say. */
export const DEFAULT_K_MAX = 64;
/** Most draws per position a sampled spec may ask for (a row keeps at most this many sampled ids). */
export const MAX_SAMPLES = 4096;

/**
 * Returns a clean copy of `spec` (unknown keys dropped; an adaptive spec without kMin / kMax gets
 * the defaults 1 / 64) or throws a CompressError saying what to pass.
 *
 * With `vocabSize`, fixed k must be ≤ vocabSize and adaptive kMin must be ≤ vocabSize; adaptive
 * kMax may exceed it (it is a bound, clamped to the vocabulary when rows are selected).
 */
export function validateSpec(spec: CompressionSpec, vocabSize?: number): CompressionSpec {
  if (vocabSize !== undefined) checkVocabSize(vocabSize);
  if (typeof spec !== 'object' || spec === null) {
    throw new CompressError('E_SPEC', `compression spec: expected an object, got ${describe(spec)}; pass e.g. { mode: 'fixed', k: 20 } or { mode: 'adaptive', p: 0.95, kMin: 1, kMax: 64 }`);
  }
  const raw = spec as unknown as Record<string, unknown>;
  if (raw.mode === 'fixed') {
    const k = raw.k;
    checkCount('k', k, 'fixed mode');
    if (vocabSize !== undefined && (k as number) > vocabSize) {
      throw new CompressError('E_K_RANGE', `compression spec: k is ${String(k)} but the vocabulary has only ${vocabSize} tokens; pass k between 1 and ${vocabSize}`);
    }
    return { mode: 'fixed', k: k as number };
  }
  if (raw.mode === 'sampled') return { mode: 'sampled', ...samplingOf(raw) };
  if (raw.mode === 'hybrid') {
    const head = validateSpec({ ...raw, mode: 'adaptive' } as CompressionSpec, vocabSize) as Extract<CompressionSpec, { mode: 'adaptive' }>;
    return { mode: 'hybrid', p: head.p, kMin: head.kMin, kMax: head.kMax, ...samplingOf(raw) };
  }
  if (raw.mode === 'adaptive') {
    const p = raw.p;
    if (!(typeof p === 'number' && p > 0 && p <= 1)) {
      throw new CompressError('E_P_RANGE', `compression spec: p must be a number in (0, 1], got ${describe(p)}; pass e.g. p: 0.95 (the fewest tokens whose probabilities add up to 95%)`);
    }
    const kMin = raw.kMin === undefined ? DEFAULT_K_MIN : raw.kMin;
    const kMax = raw.kMax === undefined ? DEFAULT_K_MAX : raw.kMax;
    checkCount('kMin', kMin, 'adaptive mode');
    checkCount('kMax', kMax, 'adaptive mode');
    if ((kMin as number) > (kMax as number)) {
      throw new CompressError('E_K_RANGE', `compression spec: kMin (${String(kMin)}) is greater than kMax (${String(kMax)}${raw.kMax === undefined ? ', the default' : ''}); pass kMin ≤ kMax`);
    }
    if (vocabSize !== undefined && (kMin as number) > vocabSize) {
      throw new CompressError('E_K_RANGE', `compression spec: kMin is ${String(kMin)} but the vocabulary has only ${vocabSize} tokens; pass kMin between 1 and ${vocabSize}`);
    }
    return { mode: 'adaptive', p, kMin: kMin as number, kMax: kMax as number };
  }
  throw new CompressError(
    'E_SPEC',
    `compression spec: mode must be 'fixed', 'adaptive', 'sampled' or 'hybrid', got ${describe(raw.mode)}; pass { mode: 'fixed', k }, { mode: 'adaptive', p, kMin, kMax }, { mode: 'sampled', samples } or { mode: 'hybrid', p, kMax, samples }`,
  );
}

/** The draw settings of a sampled or hybrid spec; proposalTemperature defaults to 1, seed to 0. */
function samplingOf(raw: Record<string, unknown>): { samples: number; proposalTemperature: number; seed: number } {
  const { samples } = raw;
  if (!(typeof samples === 'number' && Number.isInteger(samples) && samples >= 1 && samples <= MAX_SAMPLES)) {
    throw new CompressError('E_K_RANGE', `compression spec: samples in ${String(raw.mode)} mode must be a whole number in [1, ${MAX_SAMPLES}], got ${describe(samples)}; pass e.g. samples: 12 (draws per position)`);
  }
  const proposalTemperature = raw.proposalTemperature === undefined ? 1 : raw.proposalTemperature;
  if (!(typeof proposalTemperature === 'number' && Number.isFinite(proposalTemperature) && proposalTemperature > 0)) {
    throw new CompressError('E_SPEC', `compression spec: proposalTemperature must be a finite number > 0, got ${describe(proposalTemperature)}; pass 1 to draw from the teacher's distribution itself, or e.g. 1.5 to draw flatter`);
  }
  const seed = raw.seed === undefined ? 0 : raw.seed;
  // 2²⁴: the seed travels as a float32 attribute of the teacher graph's Multinomial node.
  if (!(typeof seed === 'number' && Number.isInteger(seed) && seed >= 0 && seed < 2 ** 24)) {
    throw new CompressError('E_SPEC', `compression spec: seed must be a whole number in [0, 2²⁴), got ${describe(seed)}; pass e.g. seed: 0`);
  }
  return { samples, proposalTemperature, seed };
}

function checkCount(name: string, value: unknown, where: string): void {
  if (!(typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 0xffffffff)) {
    throw new CompressError('E_K_RANGE', `compression spec: ${name} in ${where} must be a whole number ≥ 1, got ${describe(value)}; pass e.g. ${name}: ${name === 'kMax' ? 64 : name === 'kMin' ? 1 : 20}`);
  }
}

/** Vocabulary sizes come from model files; a bad one is the caller's input error, not a spec error. */
export function checkVocabSize(vocabSize: number): void {
  if (!(Number.isInteger(vocabSize) && vocabSize >= 1 && vocabSize <= 0xffffffff)) {
    throw new CompressError('E_INPUT', `vocabSize must be a whole number ≥ 1, got ${describe(vocabSize)}; pass the teacher's vocabulary size`);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}

/** A spec in one short line for reports and logs, e.g. "adaptive p=0.95 kMin=1 kMax=64". */
export function describeSpec(spec: CompressionSpec): string {
  switch (spec.mode) {
    case 'fixed':
      return `fixed k=${spec.k}`;
    case 'adaptive':
      return `adaptive p=${spec.p} kMin=${spec.kMin} kMax=${spec.kMax}`;
    case 'sampled':
      return `sampled samples=${spec.samples} proposalTemperature=${spec.proposalTemperature} seed=${spec.seed}`;
    case 'hybrid':
      return `hybrid p=${spec.p} kMin=${spec.kMin} kMax=${spec.kMax} samples=${spec.samples} proposalTemperature=${spec.proposalTemperature} seed=${spec.seed}`;
  }
}
