import { expect, test } from 'vitest';
import { freshDatasetPath } from './expect-document.js';
import { openDataset, openDatasetWriter } from './index.js';
import { syntheticCorpus, testHeader } from './synthetic.js';

/** Smallest and largest Σprobs + tailMass over every row of a dataset. */
async function rowSums(dir: string, renormalize: boolean): Promise<[number, number]> {
  let low = Infinity;
  let high = -Infinity;
  for await (const document of (await openDataset(dir, { renormalize })).documents()) {
    const { rows } = document;
    for (let row = 0; row < rows.length; row++) {
      let sum = rows.tailMass[row];
      for (let i = rows.offsets[row]; i < rows.offsets[row + 1]; i++) sum += rows.probs[i];
      low = Math.min(low, sum);
      high = Math.max(high, sum);
    }
  }
  return [low, high];
}

test('decoded u8-log rows sum to 1 only within the quantization error; renormalize makes them sum to 1', async () => {
  const dir = await freshDatasetPath();
  const writer = await openDatasetWriter(dir, testHeader, { rowsPerPart: 400 });
  for (const document of syntheticCorpus(30, 5)) await writer.append(document);
  await writer.close();
  const [low, high] = await rowSums(dir, false);
  // The documented fact: off by more than float noise, within the 2.8 % bound of u8-log.
  expect(high - low).toBeGreaterThan(1e-3);
  expect(low).toBeGreaterThanOrEqual(1 - 0.028 - 1e-5);
  expect(high).toBeLessThanOrEqual(1 + 0.028 + 1e-5);
  const [renormalizedLow, renormalizedHigh] = await rowSums(dir, true);
  expect(Math.abs(renormalizedLow - 1)).toBeLessThan(1e-5);
  expect(Math.abs(renormalizedHigh - 1)).toBeLessThan(1e-5);
});
