import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findCheckpoint, loadCheckpoint } from './checkpoint.js';
import { train, type TrainOptionsInput } from './train.js';
import { devCorpus, studentTokenizer, teacherTokenizer, tinyRunSettings, trainCorpus } from './test-fixtures.js';

const folders: string[] = [];
async function freshFolder(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'kd-train-'));
  folders.push(folder);
  return folder;
}
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

const base = (out: string): TrainOptionsInput => ({ corpus: devCorpus, limit: 30, tokenizer: teacherTokenizer, out, ...tinyRunSettings });

describe('train (objective ce)', () => {
  it('a run stopped after step 3 and resumed follows the uninterrupted loss and eval curves exactly', async () => {
    // Held-out text the run does not train on: every other step, at step 0 and the last step.
    const evaluation = { evalCorpus: trainCorpus, evalEvery: 2, evalTokens: 40 };
    const evaluated = (out: string): TrainOptionsInput => ({ ...base(out), ...evaluation });
    const evaluations: { step: number; tokens: number }[] = [];
    const whole = await train(evaluated(await freshFolder()), { onEvaluation: ({ step, tokens }) => evaluations.push({ step, tokens }) });
    expect(whole.step).toBe(6);
    expect(whole.losses).toHaveLength(6);
    expect(whole.evalLosses.map((point) => point.step)).toEqual([0, 2, 4, 6]);
    expect(evaluations).toEqual([0, 2, 4, 6].map((step) => ({ step, tokens: 40 })));
    expect(whole.evalTokens).toBe(40);
    // Untrained, the held-out CE is about ln(32000); the trained weights do better on unseen text.
    expect(whole.evalLosses[0].loss).toBeGreaterThan(Math.log(32000) - 0.5);
    expect(whole.evalLosses[3].loss).toBeLessThan(whole.evalLosses[0].loss);
    expect(whole.losses.every(Number.isFinite)).toBe(true);
    // The loss at init is about ln(32000), and training lowers it.
    expect(whole.losses[0]).toBeGreaterThan(Math.log(32000) - 0.5);
    expect(whole.losses[5]).toBeLessThan(whole.losses[0]);

    const out = await freshFolder();
    const controller = new AbortController();
    const first = await train(evaluated(out), { signal: controller.signal, onProgress: (progress) => progress.step === 3 && controller.abort() });
    expect(first.stopped).toBe(true);
    expect(first.step).toBe(3);
    const saved = await loadCheckpoint(out);
    expect(saved.state.step).toBe(3);
    expect(saved.state.dataPosition).toBe(6);
    saved.model.dispose();
    await expect(train(evaluated(out))).rejects.toMatchObject({ code: 'E_CHECKPOINT' });
    await expect(train({ ...evaluated(out), resume: true, batchSize: 3 })).rejects.toMatchObject({ code: 'E_CHECKPOINT' });
    // Another thread count would not reproduce the uninterrupted run bit for bit.
    expect(saved.state.settings).toMatchObject({ engine: 'onnxruntime', threads: 2 });
    await expect(train({ ...evaluated(out), resume: true, threads: 1 })).rejects.toThrow(/threads: the run recorded 2, this resume gives 1/);

    // The held-out evaluation is part of the contract: another token count would change the curve.
    await expect(train({ ...evaluated(out), resume: true, evalTokens: 41 })).rejects.toThrow(/evaluation: the run recorded .*"tokens":40.*, this resume gives .*"tokens":41/);
    await expect(train({ ...base(out), resume: true })).rejects.toThrow(/evaluation: the run recorded .*, this resume gives null/);
    expect(saved.state.evalLosses).toEqual(whole.evalLosses.slice(0, 2));

    const resumed = await train({ ...evaluated(out), resume: true });
    expect(resumed.step).toBe(6);
    expect(resumed.losses).toEqual(whole.losses);
    expect(resumed.evalLosses).toEqual(whole.evalLosses);
    expect((await loadCheckpoint(out).then((loaded) => (loaded.model.dispose(), loaded.state))).evalLosses).toEqual(whole.evalLosses);
    const finalWhole = await loadCheckpoint(whole.checkpoint);
    const finalResumed = await loadCheckpoint(out);
    const name = 'model.layers.0.mlp.down_proj.weight';
    expect(finalResumed.model.parameters.get(name)!.dataSync()).toEqual(finalWhole.model.parameters.get(name)!.dataSync());
    finalWhole.model.dispose();
    finalResumed.model.dispose();
    // Only the finished checkpoint remains: no partial or previous folders.
    expect((await readdir(out)).sort()).toEqual(['checkpoint']);
  });

  it('a resume with another corpus, learning rate, schedule, model shape or tokenizer is refused, naming the setting and both values', async () => {
    const out = await freshFolder();
    const controller = new AbortController();
    const first = await train({ ...base(out), steps: 4 }, { signal: controller.signal, onProgress: (progress) => progress.step === 1 && controller.abort() });
    expect(first.stopped).toBe(true);
    const resumeWith = (changes: Partial<TrainOptionsInput>) => train({ ...base(out), steps: 4, resume: true, ...changes }).catch((caught) => caught);

    const inputs = await freshFolder();
    const lines = (await readFile(devCorpus, 'utf8')).split('\n');
    const edited = join(inputs, 'edited.jsonl');
    await writeFile(edited, [lines[1], lines[0], ...lines.slice(2)].join('\n'));
    // Another tokenizer file of the same size (one that did not fit the model would be refused
    // earlier, as E_VOCAB_MISMATCH): the same vocabulary without its last merge.
    const otherTokenizer = join(inputs, 'tokenizer.json');
    const tokenizerJson = JSON.parse(await readFile(teacherTokenizer, 'utf8'));
    expect(tokenizerJson.model.merges.length).toBeGreaterThan(0);
    tokenizerJson.model.merges.pop();
    await writeFile(otherTokenizer, JSON.stringify(tokenizerJson));
    const refusals: [Partial<TrainOptionsInput>, RegExp][] = [
      [{ corpus: edited }, /corpus content \(sha256\): the run recorded "[0-9a-f]{64}", this resume gives "[0-9a-f]{64}"/],
      [{ learningRate: 2e-2 }, /learningRate: the run recorded 0\.01, this resume gives 0\.02/],
      [{ warmupSteps: 3 }, /warmupSteps: the run recorded 2, this resume gives 3/],
      [{ model: { ...base(out).model, hiddenSize: 64 } }, /model: the run recorded .*"hiddenSize":32.*, this resume gives .*"hiddenSize":64/],
      [{ tokenizer: otherTokenizer }, /tokenizer/],
      [{ seed: 6 }, /seed: the run recorded 5, this resume gives 6/],
    ];
    for (const [changes, message] of refusals) {
      const refused = await resumeWith(changes);
      expect(refused.code, JSON.stringify(changes)).toBe('E_CHECKPOINT');
      expect(refused.message).toMatch(message);
    }
    // The same content under another path resumes; the recorded path stays the original one.
    const moved = join(inputs, 'moved.jsonl');
    await writeFile(moved, await readFile(devCorpus));
    const resumed = await resumeWith({ corpus: moved });
    expect(resumed.step).toBe(4);
    const saved = await loadCheckpoint(out);
    expect(saved.state.settings.corpus).toBe(devCorpus);
    saved.model.dispose();
  });

  it('stops on a non-finite loss, names the step and keeps only a checkpoint written before the divergence', async () => {
    // A huge learning rate without clipping blows the weights up within a few steps.
    const blowUp = await freshFolder();
    const failure = await train({ ...base(blowUp), steps: 40, accumulate: 1, clip: 0, weightDecay: 0, learningRate: 1e30, warmupSteps: 0, checkpointEvery: 1 }).catch((caught) => caught);
    expect(failure.code).toBe('E_NONFINITE_LOSS');
    expect(failure.message).toMatch(/^step \d+: /);
    expect(failure.message).toMatch(/the weights (are still finite|themselves are non-finite)/);
    expect(failure.message).not.toMatch(/--lr/);
    const kept = await findCheckpoint(blowUp);
    if (kept) {
      const loaded = await loadCheckpoint(blowUp);
      expect(loaded.state.health).toMatchObject({ healthy: true, finiteWeights: true });
      expect(failure.message).toContain(`the last good checkpoint, step ${loaded.state.step}`);
      loaded.model.dispose();
    } else expect(failure.message).toMatch(/no good checkpoint exists/);
  });

  it('at learningRate 1000 no checkpoint of the diverged weights is called good', async () => {
    // With clipping the loss stays finite for a few steps while the weights grow to about 4e10.
    const out = await freshFolder();
    const failure = await train({ ...base(out), steps: 12, accumulate: 1, learningRate: 1000, warmupSteps: 0, checkpointEvery: 1 }).catch((caught) => caught);
    expect(failure.code).toBe('E_NONFINITE_LOSS');
    expect(failure.message).toMatch(/the checkpoint due at step 1 and later ones were not written \(damaged: loss [\d.e+]+ above the first step's/);
    expect(failure.message).toMatch(/no good checkpoint exists/);
    expect(await findCheckpoint(out)).toBeUndefined();
  });

  it('says when the checkpoint a run resumed from is itself damaged', async () => {
    const out = await freshFolder();
    const settings = { ...base(out), steps: 12, accumulate: 1, learningRate: 1000, warmupSteps: 0, checkpointEvery: 100 };
    const controller = new AbortController();
    const stopped = await train(settings, { signal: controller.signal, onProgress: (progress) => progress.step === 4 && controller.abort() });
    expect(stopped).toMatchObject({ stopped: true, checkpointStep: 4, checkpointHealth: { healthy: false } });
    const failure = await train({ ...settings, resume: true }).catch((caught) => caught);
    expect(failure.code).toBe('E_NONFINITE_LOSS');
    expect(failure.message).toMatch(/the kept checkpoint \(step 4, .*\) is itself damaged: weights up to/);
  });

  it('refuses an oversized batch up front with a memory estimate', async () => {
    const out = await freshFolder();
    const error = await train({ ...base(out), batchSize: 4096, sequenceLength: 1024, model: { ...base(out).model, maxPositions: 1024 } }).catch((caught) => caught);
    expect(error.code).toBe('E_MEMORY');
    expect(error.message).toMatch(/needs about [\d.]+ (GiB|MiB)/);
    expect(error.message).toMatch(/`accumulate`/);
    expect(error.message).not.toMatch(/--/);
  });

  it('refuses unknown options by name instead of training with defaults', async () => {
    const input = { ...base('/nonexistent/never'), hidden: 128, warmup: 30 } as unknown as TrainOptionsInput;
    const error = await train(input).catch((caught) => caught);
    expect(error.code).toBe('E_OPTIONS');
    expect(error.message).toContain('`hidden`');
    expect(error.message).toContain('`warmup`');
    const nested = await train({ ...base('/nonexistent/never'), model: { hidden: 128 } } as unknown as TrainOptionsInput).catch((caught) => caught);
    expect(nested.message).toContain('`model.hidden`');
  });

  it('refuses a maxPositions shorter than the training windows, naming both options', async () => {
    const out = await freshFolder();
    const error = await train({ ...base(out), sequenceLength: 32, model: { ...base(out).model, maxPositions: 16 } }).catch((caught) => caught);
    expect(error.code).toBe('E_OPTIONS');
    expect(error.message).toContain('`model.maxPositions` is 16');
    expect(error.message).toContain('`sequenceLength`');
  });

  it('names library options, not command-line flags, when a run folder is taken', async () => {
    const out = await freshFolder();
    const error = await train({ ...base(out), resume: true }).catch((caught) => caught);
    expect(error.code).toBe('E_CHECKPOINT');
    expect(error.message).toContain('`resume`');
    expect(error.message).not.toMatch(/--/);
  });

  it('resumes only with the run\'s tokenizer: one that does not fit the logits, or another one, is refused before any step', async () => {
    const out = await freshFolder();
    const studentRun = { ...base(out), tokenizer: studentTokenizer, steps: 2, accumulate: 1 };
    const controller = new AbortController();
    const first = await train(studentRun, { signal: controller.signal, onProgress: () => controller.abort() });
    expect(first.config.vocabSize).toBe(8000);
    expect(first.config).toMatchObject({ bosTokenId: 0, eosTokenId: 1, padTokenId: 2 });
    const steps: number[] = [];
    const tooLarge = await train({ ...studentRun, resume: true, tokenizer: teacherTokenizer }, { onProgress: (progress) => steps.push(progress.step) }).catch((caught) => caught);
    expect(tooLarge.code).toBe('E_VOCAB_MISMATCH');
    expect(tooLarge.message).toContain('8000 logits');
    expect(steps).toEqual([]);
    // Same vocabulary, other bytes: not the run's tokenizer.
    const other = join(out, 'other-tokenizer.json');
    await writeFile(other, JSON.stringify(JSON.parse(await readFile(studentTokenizer, 'utf8'))));
    const different = await train({ ...studentRun, resume: true, tokenizer: other }).catch((caught) => caught);
    expect(different.code).toBe('E_CHECKPOINT');
    expect(different.message).toContain('tokenizer');
    const resumed = await train({ ...studentRun, resume: true });
    expect(resumed.step).toBe(2);
  });
});
