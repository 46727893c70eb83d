import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initializeBackend } from './backend.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { assessHealth } from './checkpoint-health.js';
import { exportModel } from './export.js';
import { createModel } from './model.js';
import { exportTestConfig, teacherTokenizer } from './test-fixtures.js';

let work: string;
beforeAll(async () => {
  await initializeBackend({ prefer: 'wasm' });
  work = await mkdtemp(join(tmpdir(), 'kd-checkpoint-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const settings = { objective: 'ce', batchSize: 1, sequenceLength: 8, accumulate: 1, steps: 2, seed: 1, corpus: 'corpus.jsonl' };

async function savedRun(name: string): Promise<string> {
  const run = join(work, name);
  const model = createModel(exportTestConfig, { seed: 2 });
  await saveCheckpoint(run, { model, optimizerState: new Map(), tokenizerPath: teacherTokenizer, state: { step: 1, dataPosition: 1, config: model.config, settings, losses: [10] } });
  model.dispose();
  return run;
}

/** Flips the lowest mantissa bit of the first stored float. */
async function flipMantissaBit(file: string): Promise<void> {
  const bytes = await readFile(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  bytes[8 + headerLength] ^= 0x01;
  await writeFile(file, bytes);
}

describe('checkpoint checksums', () => {
  it('a checkpoint loads when intact and is refused with E_CHECKSUM after a flipped mantissa bit', async () => {
    const run = await savedRun('flipped');
    (await loadCheckpoint(run)).model.dispose();
    await flipMantissaBit(join(run, 'checkpoint', 'weights.safetensors'));
    await expect(loadCheckpoint(run)).rejects.toMatchObject({ code: 'E_CHECKSUM', message: expect.stringMatching(/weights\.safetensors: sha256 mismatch/) });
    await expect(exportModel(run, join(work, 'flipped-export'))).rejects.toMatchObject({ code: 'E_CHECKSUM' });
  });

  it('an edited state.json and a missing checksums file are refused', async () => {
    const edited = await savedRun('edited');
    const statePath = join(edited, 'checkpoint', 'state.json');
    await writeFile(statePath, (await readFile(statePath, 'utf8')).replace('"step": 1', '"step": 2'));
    await expect(loadCheckpoint(edited)).rejects.toMatchObject({ code: 'E_CHECKSUM', message: expect.stringMatching(/state\.json/) });
    const unchecked = await savedRun('unchecked');
    await rm(join(unchecked, 'checkpoint', 'checksums.json'));
    await expect(loadCheckpoint(unchecked)).rejects.toMatchObject({ code: 'E_CHECKSUM', message: expect.stringMatching(/checksums\.json/) });
  });
});

describe('checkpoint health', () => {
  it('calls finite weights of a sane size with a loss not above the first healthy, anything else damaged', () => {
    const model = createModel(exportTestConfig, { seed: 2 });
    expect(assessHealth(model.parameters, [10, 9])).toMatchObject({ healthy: true, finiteWeights: true });
    expect(assessHealth(model.parameters, [10, 9], 12_542_499)).toMatchObject({ healthy: false, problem: expect.stringMatching(/diverging/) });
    expect(assessHealth(model.parameters, [10, Number.NaN])).toMatchObject({ healthy: false });
    const norm = model.parameters.get('model.norm.weight')!.dataSync() as Float32Array;
    norm[3] = 4e10;
    // dataSync may return a copy: judge a map holding the edited values.
    const big = new Map([...model.parameters].map(([name, parameter]) => [name, { dataSync: () => (name === 'model.norm.weight' ? norm : parameter.dataSync()) }]));
    expect(assessHealth(big, [10, 9])).toMatchObject({ healthy: false, maxAbsWeight: 4e10, problem: expect.stringMatching(/weights up to 4\.00e\+10/) });
    norm[3] = Number.NaN;
    expect(assessHealth(big, [10, 9])).toMatchObject({ healthy: false, finiteWeights: false, problem: expect.stringMatching(/non-finite weights \(first in model\.norm\.weight\)/) });
    model.dispose();
  });
});
