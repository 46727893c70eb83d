import { describe, expect, it } from 'vitest';
import { recordedDistillation, settingDifferences, type RunSettings } from './run-settings.js';

const settings = (distillation: Record<string, unknown>): RunSettings => ({ objective: 'kd', batchSize: 8, sequenceLength: 128, accumulate: 1, steps: 10, seed: 0, corpus: 'labels', distillation });

describe('distillation settings in the resume contract', () => {
  it('leaves out settings at the value runs had before they existed, and names each differing one', () => {
    const recorded = recordedDistillation({ labels: 'labels', alpha: 0.5, categories: 'token', shuffleParts: 1 });
    expect(recorded).toEqual({ labels: 'labels', alpha: 0.5 });
    // A run recorded before shuffleParts existed read one part at a time: it resumes with 1 and not with 8.
    expect(settingDifferences(settings(recorded), settings(recordedDistillation({ labels: 'labels', alpha: 0.5, categories: 'token', shuffleParts: 1 })))).toEqual([]);
    expect(settingDifferences(settings(recorded), settings(recordedDistillation({ labels: 'labels', alpha: 0.5, categories: 'token', shuffleParts: 8 })))).toEqual([
      'distillation shuffleParts: the run recorded 1, this resume gives 8',
    ]);
    expect(settingDifferences(settings({ labels: 'labels', alpha: 0.5, categories: 'prefix-group' }), settings({ labels: 'labels', alpha: 0.9 }))).toEqual([
      'distillation alpha: the run recorded 0.5, this resume gives 0.9',
      'distillation categories: the run recorded "prefix-group", this resume gives "token"',
    ]);
  });
});
