import * as tf from './tf.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from './checkpoint.js';
// loadCheckpoint's model is the TensorFlow.js LanguageModel inside; the public type hides its forward pass.
import type { LanguageModel } from './model.js';
import { readHeldOut } from './held-out.js';
import { train, type TrainOptionsInput } from './train.js';
import { devCorpus, studentTokenizer, trainCorpus } from './test-fixtures.js';

const folders: string[] = [];
async function freshFolder(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'kd-held-out-'));
  folders.push(folder);
  return folder;
}
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

const run = (out: string): TrainOptionsInput => ({
  corpus: devCorpus,
  limit: 20,
  tokenizer: studentTokenizer,
  out,
  model: { hiddenSize: 32, intermediateSize: 64, layers: 1, heads: 2, maxPositions: 64 },
  steps: 3,
  batchSize: 2,
  sequenceLength: 16,
  learningRate: 1e-2,
  seed: 3,
  backend: 'wasm',
  threads: 2,
  evalCorpus: trainCorpus,
  evalTokens: 50,
});

describe('held-out evaluation', () => {
  it("records the mean cross-entropy per held-out token, equal to the TensorFlow.js model's on the same tokens", async () => {
    const out = await freshFolder();
    const result = await train(run(out));
    // Default evalEvery: a tenth of the steps, at least 1.
    expect(result.evalLosses.map((point) => point.step)).toEqual([0, 1, 2, 3]);
    expect(result.evalTokens).toBe(50);

    const loaded = await loadCheckpoint(out);
    const config = loaded.model.config;
    const set = await readHeldOut({ corpus: trainCorpus, tokenizerPath: studentTokenizer, bosId: config.bosTokenId, eosId: config.eosTokenId!, tokens: 50, sequenceLength: 16 });
    // 50 targets: three full windows of 16 and two targets of a fourth, the rest padding.
    expect(set).toMatchObject({ tokens: 50, windows: 4 });
    expect(set.rowWeights.reduce((sum, weight) => sum + weight, 0)).toBe(50);
    const logits = tf.tidy(() => (loaded.model as LanguageModel).forward(tf.tensor2d(set.inputs, [set.windows, 16], 'int32')).logits.dataSync() as Float32Array);
    loaded.model.dispose();
    const vocab = config.vocabSize;
    let total = 0;
    for (let row = 0; row < set.tokens; row++) {
      const values = logits.subarray(row * vocab, (row + 1) * vocab);
      let maximum = -Infinity;
      for (const value of values) maximum = Math.max(maximum, value);
      let sum = 0;
      for (const value of values) sum += Math.exp(value - maximum);
      total += maximum + Math.log(sum) - values[set.labels[row]];
    }
    expect(result.evalLosses.at(-1)!.loss).toBeCloseTo(total / set.tokens, 4);
    expect(result.evalLosses.at(-1)!.loss).toBeLessThan(result.evalLosses[0].loss);
  });

  it('refuses bad evaluation options, naming the option', async () => {
    const out = await freshFolder();
    const error = async (changes: Partial<TrainOptionsInput>) => train({ ...run(out), ...changes }).catch((caught) => caught);
    const zero = await error({ evalTokens: 0 });
    expect(zero.code).toBe('E_OPTIONS');
    expect(zero.message).toContain('`evalTokens`');
    expect(zero.message).toContain('(got 0)');
    const fraction = await error({ evalEvery: 2.5 });
    expect(fraction.code).toBe('E_OPTIONS');
    expect(fraction.message).toContain('`evalEvery`');
    const alone = await error({ evalCorpus: undefined, evalEvery: 5, evalTokens: undefined });
    expect(alone.code).toBe('E_OPTIONS');
    expect(alone.message).toMatch(/`evalEvery`: needs `evalCorpus`/);
    expect(alone.message).not.toMatch(/--/);
    const empty = join(out, 'blank.jsonl');
    await writeFile(empty, '\n');
    const tooShort = await error({ evalCorpus: empty });
    expect(tooShort.code).toBe('E_DATA');
    expect(tooShort.message).toContain('evalCorpus');
  });
});
