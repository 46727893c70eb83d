import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from './checkpoint.js';
import { studentTokenizerPath, writeTestLabels } from './kd-test-labels.js';
import { devCorpus, teacherTokenizer, tinyRunSettings } from './test-fixtures.js';
import { train, type TrainOptionsInput } from './train.js';

const folders: string[] = [];
async function fresh(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'kd-engines-'));
  folders.push(folder);
  return folder;
}
let labels: string;
beforeAll(async () => {
  labels = await writeTestLabels({ documents: 12, rowsPerPart: 400 });
  folders.push(labels);
});
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

const shared = tinyRunSettings;

const objectives = {
  ce: (out: string): TrainOptionsInput => ({ ...shared, corpus: devCorpus, limit: 30, tokenizer: teacherTokenizer, evalCorpus: devCorpus, evalEvery: 3, evalTokens: 64, out }),
  kd: (out: string): TrainOptionsInput => ({ ...shared, objective: 'kd', labels, teacherTokenizer, studentTokenizer: studentTokenizerPath, alpha: 0.7, out }),
  // τ = 2 takes its own path on the onnxruntime engine: the LM head's product hands the
  // objective logits / 2, and one softmax serves the hard and the soft term.
  'kd τ=2': (out: string): TrainOptionsInput => ({ ...shared, objective: 'kd', labels, teacherTokenizer, studentTokenizer: studentTokenizerPath, alpha: 0.7, temperature: 2, tail: 'bucket', out }),
};

// Both engines compute the same float32 math from the same initial weights and batches, but
// sum in different orders (onnxruntime's blocked matrix products and reductions against
// TensorFlow.js's wasm kernels), so their losses agree to rounding, amplified a little by each
// AdamW step: within 1e-3 relative over six steps.
const tolerance = 1e-3;

// [objective, the loss falls over the six steps]: at τ = 2 the soft term (scaled by τ²) moves
// from batch to batch more than six steps of this tiny run bring it down, so there the engines'
// agreement is what is checked.
describe.each([['ce', true], ['kd', true], ['kd τ=2', false]] as const)('the two engines (objective %s)', (objective, falls) => {
  it('train: the tensorflow engine follows the onnxruntime engine\'s loss curve', async () => {
    const native = await train({ ...objectives[objective](await fresh()), engine: 'onnxruntime' });
    const tensorflow = await train({ ...objectives[objective](await fresh()), engine: 'tensorflow' });
    expect(native.engine.name).toBe('onnxruntime');
    expect(tensorflow.engine.name).toBe('tensorflow');
    expect(tensorflow.engine.description).toMatch(/^engine: tensorflow \(TensorFlow\.js on the wasm backend/);
    expect(tensorflow.losses).toHaveLength(6);
    tensorflow.losses.forEach((loss, step) => expect(Math.abs(loss - native.losses[step])).toBeLessThanOrEqual(tolerance * Math.abs(native.losses[step])));
    if (falls) expect(tensorflow.losses[5]).toBeLessThan(tensorflow.losses[0]);
    // The held-out evaluation runs on the run's engine too (objective ce is given an eval corpus).
    expect(tensorflow.evalLosses.map((point) => point.step)).toEqual(native.evalLosses.map((point) => point.step));
    tensorflow.evalLosses.forEach((point, index) => expect(Math.abs(point.loss - native.evalLosses[index].loss)).toBeLessThanOrEqual(tolerance * native.evalLosses[index].loss));
  });
});

describe('engine in the run settings', () => {
  it('a tensorflow run resumes exactly on its own engine (auto keeps it) and refuses the onnxruntime engine', async () => {
    const whole = await train({ ...objectives.ce(await fresh()), engine: 'tensorflow' });
    const out = await fresh();
    const controller = new AbortController();
    const first = await train({ ...objectives.ce(out), engine: 'tensorflow' }, { signal: controller.signal, onProgress: (progress) => progress.step === 3 && controller.abort() });
    expect(first.step).toBe(3);
    const saved = await loadCheckpoint(out);
    saved.model.dispose();
    expect(saved.state.settings.engine).toBe('tensorflow');
    await expect(train({ ...objectives.ce(out), resume: true, engine: 'onnxruntime' })).rejects.toThrow(/engine: the run recorded "tensorflow", this resume gives "onnxruntime"/);
    const resumed = await train({ ...objectives.ce(out), resume: true });
    expect(resumed.engine.name).toBe('tensorflow');
    expect(resumed.losses).toEqual(whole.losses);
  });
});
