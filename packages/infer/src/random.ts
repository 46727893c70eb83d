// A small seeded generator (sfc32, state from splitmix32) so that sampling with a seed gives the
// same tokens on every run and platform; Math.random cannot be seeded.
import { randomInt } from 'node:crypto';

export type Random = () => number;

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Uniform numbers in [0, 1) from a non-negative integer seed (up to 2^53). */
export function seededRandom(seed: number): Random {
  const low = splitmix32(seed >>> 0);
  const high = splitmix32(Math.floor(seed / 2 ** 32) ^ 0x5bd1e995);
  let a = low();
  let b = high();
  let c = low();
  let d = high();
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** A seed for callers that gave none. */
export function freshSeed(): number {
  return randomInt(0, 2 ** 47);
}
