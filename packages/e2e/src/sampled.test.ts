// `kd label --mode sampled` and `--mode hybrid` end to end: the real teacher draws inside its
// graph, the dataset records the spec, and every row read back is a valid unbiased-estimate row;
// `kd train --objective kd` trains a student on the sampled labels (their unbiased estimator).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataset } from '@kd/codec-parquet';
import { afterAll, describe, expect, it } from 'vitest';
import { devCorpus, kd, repoRoot, teacherDir } from './test-fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'kd-e2e-sampled-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function label(out: string, flags: string[]): Promise<Record<string, number>> {
  const result = await kd(['label', '--teacher', teacherDir, '--corpus', devCorpus, '--tasks', 'translate', '--limit', '4', '--out', out, '--json', ...flags]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!);
}

describe('kd label --mode sampled / hybrid', () => {
  it('stores at most n distinct ids per position whose estimates add up to 1, reproducibly from --seed', async () => {
    const out = join(work, 'sampled');
    const summary = await label(out, ['--mode', 'sampled', '--samples', '8', '--seed', '3']);
    expect(summary.documents).toBe(4);
    expect(summary.meanKept).toBeGreaterThan(1);
    expect(summary.meanKept).toBeLessThanOrEqual(8);
    const reader = await openDataset(out);
    expect(reader.manifest.compression).toEqual({ mode: 'sampled', samples: 8, proposalTemperature: 1, seed: 3 });
    let rows = 0;
    for await (const document of reader.documents()) {
      const { offsets, ids, probs } = document.rows;
      for (let row = 0; row < document.rows.length; row++, rows++) {
        const count = offsets[row + 1] - offsets[row];
        expect(count).toBeGreaterThanOrEqual(1);
        expect(count).toBeLessThanOrEqual(8);
        expect(new Set(ids.subarray(offsets[row], offsets[row + 1])).size).toBe(count);
        let sum = 0;
        for (let i = offsets[row]; i < offsets[row + 1]; i++) {
          // Draws at proposal temperature 1 estimate p by count / n: multiples of 1/8 (quantized).
          expect(Math.abs(probs[i] * 8 - Math.round(probs[i] * 8))).toBeLessThan(0.25);
          sum += probs[i];
        }
        expect(sum).toBeGreaterThan(0.95);
        expect(sum).toBeLessThan(1.05);
      }
    }
    expect(rows).toBe(summary.rows);
    const again = join(work, 'sampled-again');
    await label(again, ['--mode', 'sampled', '--samples', '8', '--seed', '3']);
    const first = [];
    for await (const document of (await openDataset(out)).documents()) first.push(Array.from(document.rows.ids));
    const second = [];
    for await (const document of (await openDataset(again)).documents()) second.push(Array.from(document.rows.ids));
    expect(second).toEqual(first);

    const inspected = await kd(['inspect', out, '--fidelity', '--teacher', teacherDir, '--sample-documents', '2', '--json']);
    expect(inspected.code).toBe(0);
    const report = JSON.parse(inspected.stdout);
    for (const key of ['bytesPerToken', 'bytesPerEntry', 'capturedMass', 'klFullDecoded', 'top1Agreement', 'ece']) expect(typeof report[key]).toBe('number');
    expect(report.positions).toBeGreaterThan(20);
    expect(report.bytesPerEntry).toBeCloseTo(report.bytesPerToken * (summary.tokens / summary.rows) / report.meanKept, 0);
    expect(report.capturedMass).toBeGreaterThan(0.3);
    expect(report.capturedMass).toBeLessThanOrEqual(1.0001);
    expect(report.top1Agreement).toBeGreaterThan(0.3);
    expect(report.ece).toBeGreaterThanOrEqual(0);
    expect(report.ece).toBeLessThan(1);
  });

  it('hybrid keeps an exact adaptive head plus tail estimates', async () => {
    const out = join(work, 'hybrid');
    const summary = await label(out, ['--mode', 'hybrid', '--p', '0.8', '--k-max', '16', '--samples', '4', '--proposal-temperature', '1.5']);
    expect(summary.meanKept).toBeGreaterThan(1);
    expect(summary.meanKept).toBeLessThanOrEqual(20);
    const reader = await openDataset(out);
    expect(reader.manifest.compression).toMatchObject({ mode: 'hybrid', p: 0.8, kMax: 16, samples: 4, proposalTemperature: 1.5 });
  });

  it('kd train --objective kd --labels trains on sampled labels: the loss goes down', async () => {
    const labels = join(work, 'sampled-train');
    await label(labels, ['--mode', 'sampled', '--samples', '12', '--seed', '5']);
    const train = async (steps: number) => {
      const result = await kd([
        'train', '--objective', 'kd', '--labels', labels, '--teacher-tokenizer', join(teacherDir, 'tokenizer.json'),
        '--student-tokenizer', join(repoRoot, 'examples/student-tokenizer/tokenizer.json'), '--out', join(work, `student-${steps}`),
        '--hidden-size', '32', '--layers', '1', '--heads', '2', '--batch-size', '2', '--sequence-length', '32',
        '--learning-rate', '0.01', '--seed', '1', '--steps', String(steps), '--backend', 'wasm', '--json',
      ]);
      expect(result.code, result.stderr).toBe(0);
      return JSON.parse(result.stdout.trim()) as { step: number; loss: number };
    };
    // The same seed and data order: the one-step run's loss is the longer run's first loss.
    const first = await train(1);
    const last = await train(40);
    expect(last.step).toBe(40);
    expect(Number.isFinite(first.loss)).toBe(true);
    expect(last.loss).toBeLessThan(first.loss * 0.8);
  });
});

