// Seeded uniform random numbers for sampled rows: the same seed gives the same draws on every
// machine (integer arithmetic only), so a sampled dataset can be reproduced.

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/**
 * sfc32 (Chris Doty-Humphrey's small fast counter generator) seeded through splitmix32, with 53
 * random bits per number (two 32-bit outputs), so even probabilities of 1e-12 are drawn at their
 * rate. `stream` separates independent sequences under one seed (e.g. one per document).
 */
export function createRandom(seed: number, stream = 0): Random {
  let state = (seed ^ Math.imul(stream, 0x9e3779b9)) >>> 0;
  const splitmix = (): number => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let counter = splitmix();
  const next = (): number => {
    const t = (((a + b) >>> 0) + counter) >>> 0;
    counter = (counter + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) next();
  return () => ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
}
