// Making a teacher of one's own, each step in its own process as a user runs it: kd train
// (cross-entropy), kd export (the Hugging Face ONNX layout), kd label with the export as the
// teacher (a model with past_key_values inputs), kd inspect --verify.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { devCorpus, kd, repoRoot } from './test-fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'kd-e2e-own-teacher-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('train → export → label with the export', () => {
  it('each command succeeds in a fresh process and the labelled dataset verifies', async () => {
    const run = join(work, 'run');
    const exported = join(work, 'export');
    const labels = join(work, 'labels');
    const train = await kd([
      'train', '--corpus', devCorpus, '--tokenizer', join(repoRoot, 'examples/student-tokenizer/tokenizer.json'), '--out', run,
      '--hidden-size', '32', '--layers', '1', '--heads', '2', '--steps', '2', '--batch-size', '2', '--sequence-length', '32',
      '--warmup-steps', '1', '--limit', '40', '--json',
    ]);
    expect(train.stderr.split('\n').filter((line) => line.startsWith('kd:'))).toEqual([]);
    expect(train.code).toBe(0);

    const exportResult = await kd(['export', '--checkpoint', run, '--out', exported]);
    expect(exportResult.stderr).toBe('');
    expect(exportResult.code).toBe(0);
    expect(existsSync(join(exported, 'onnx', 'model.onnx'))).toBe(true);

    const label = await kd(['label', '--teacher', exported, '--corpus', devCorpus, '--limit', '4', '--mode', 'fixed', '--k', '4', '--out', labels, '--json']);
    expect(label.stderr).toBe('');
    expect(label.code).toBe(0);
    const summary = JSON.parse(label.stdout.trim().split('\n').at(-1)!);
    expect(summary.documents).toBe(4);
    expect(summary.meanKept).toBe(4);

    const verify = await kd(['inspect', labels, '--verify', '--json']);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout).verify.ok).toBe(true);
  });
});
