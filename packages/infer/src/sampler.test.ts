import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from './random.js';
import { argmax, Sampler, SeenTokens, type SamplingSettings } from './sampler.js';

const off: SamplingSettings = { temperature: 1, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1 };

function draws(logits: number[], settings: SamplingSettings, count: number, seed = 5): number[] {
  const sampler = new Sampler(logits.length, settings, seededRandom(seed));
  return Array.from({ length: count }, () => sampler.pick(Float32Array.from(logits), undefined, undefined));
}

describe('Sampler', () => {
  it('is greedy at temperature 0 (first of equal maxima)', () => {
    const sampler = new Sampler(4, { ...off, temperature: 0 }, seededRandom(1));
    expect(sampler.pick(Float32Array.of(1, 3, 3, 2), undefined, undefined)).toBe(1);
  });

  it('never picks outside top-k, top-p or min-p', () => {
    const logits = [4, 3.5, 3, 0, -1, -2, -3, -4];
    expect(new Set(draws(logits, { ...off, topK: 2 }, 300))).toEqual(new Set([0, 1]));
    // softmax: 0.50, 0.30, 0.18, … → top-p 0.7 keeps the first two.
    expect(new Set(draws(logits, { ...off, topP: 0.7 }, 300))).toEqual(new Set([0, 1]));
    // min-p 0.5: weights relative to the best, exp(−0.5) = 0.61, exp(−1) = 0.37.
    expect(new Set(draws(logits, { ...off, minP: 0.5 }, 300))).toEqual(new Set([0, 1]));
  });

  it('draws in proportion to softmax(logits / temperature)', () => {
    const logits = [Math.log(0.6), Math.log(0.3), Math.log(0.1)];
    const picks = draws(logits, off, 6000);
    const share = (id: number) => picks.filter((pick) => pick === id).length / picks.length;
    expect(share(0)).toBeCloseTo(0.6, 1);
    expect(share(1)).toBeCloseTo(0.3, 1);
    const sharp = draws(logits, { ...off, temperature: 0.25 }, 2000);
    expect(sharp.filter((pick) => pick === 0).length / sharp.length).toBeGreaterThan(0.9);
  });

  it('penalizes tokens already seen and blocks banned ones', () => {
    const seen = new SeenTokens(3);
    seen.add(0);
    const sampler = new Sampler(3, { ...off, temperature: 0, repetitionPenalty: 2 }, seededRandom(1));
    expect(sampler.pick(Float32Array.of(2, 1.5, -1), seen, undefined)).toBe(1);
    expect(sampler.pick(Float32Array.of(2, 1.5, -1), undefined, [0, 1])).toBe(2);
  });

  it('gives the same draws for the same seed (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ min: -8, max: 8, noNaN: true }), { minLength: 2, maxLength: 64 }), fc.nat(), (values, seed) => {
        const settings = { ...off, topK: 5, topP: 0.9, minP: 0.05 };
        expect(draws(values, settings, 8, seed)).toEqual(draws(values, settings, 8, seed));
        const best = argmax(Float32Array.from(values));
        // min-p 1 keeps only what weighs as much as the best (ties within float precision).
        for (const pick of draws(values, { ...settings, minP: 1 }, 4, seed)) expect(values[best] - values[pick]).toBeLessThan(1e-6);
      }),
    );
  });
});
