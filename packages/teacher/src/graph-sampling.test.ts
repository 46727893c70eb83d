import { rm } from 'node:fs/promises';
import { softmax, type CompressionSpec, type SparseRows } from '@kd/compress';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTeacher } from './teacher.js';
import { lookupTable, tableModel, teacherFolder } from './test-models.js';

const vocab = 48;
const folders: string[] = [];
afterAll(async () => {
  for (const dir of folders) await rm(dir, { recursive: true, force: true });
});

/**
 * The largest deviation of an id's mean estimate from `truth`, in standard errors: the observed
 * one, but never below what n draws per row at the true rate give (an id too rare to be drawn
 * in this many rows has no observed spread).
 */
function worstDeviation(rows: SparseRows, truth: Float32Array, samples: number): number {
  const sum = new Float64Array(vocab);
  const squares = new Float64Array(vocab);
  for (let row = 0; row < rows.length; row++) {
    for (let i = rows.offsets[row]; i < rows.offsets[row + 1]; i++) {
      sum[rows.ids[i]] += rows.probs[i];
      squares[rows.ids[i]] += rows.probs[i] ** 2;
    }
  }
  let worst = 0;
  for (let id = 0; id < vocab; id++) {
    const mean = sum[id] / rows.length;
    const standardError = Math.sqrt(Math.max(0, squares[id] / rows.length - mean ** 2) / rows.length);
    const floor = Math.sqrt((truth[id] * (1 - truth[id])) / (rows.length * samples));
    worst = Math.max(worst, Math.abs(mean - truth[id]) / Math.max(standardError, floor, 1e-9));
  }
  return worst;
}

describe('sampled rows drawn inside the graph', () => {
  // The table model's distribution depends only on the current token: 600 positions of token 5
  // are 600 independent draws from one known distribution.
  const ids = new Array<number>(600).fill(5);

  it.each([
    ['sampled n = 8', { mode: 'sampled', samples: 8, proposalTemperature: 1, seed: 1 }],
    ['sampled n = 6 at proposal temperature 2', { mode: 'sampled', samples: 6, proposalTemperature: 2, seed: 2 }],
    ['hybrid p = 0.3, kMax 6, 8 tail draws', { mode: 'hybrid', p: 0.3, kMin: 1, kMax: 6, samples: 8, proposalTemperature: 1, seed: 3 }],
    ['hybrid p = 0.3, kMax 4, 6 tail draws at proposal temperature 1.5', { mode: 'hybrid', p: 0.3, kMin: 1, kMax: 4, samples: 6, proposalTemperature: 1.5, seed: 4 }],
  ] as [string, CompressionSpec][])('are unbiased estimates of the full softmax (%s), reproducible from the seed', async (_name, spec) => {
    const dir = await teacherFolder(tableModel({ vocab, idsType: 'int64' }), vocab);
    folders.push(dir);
    const temperature = 1.3;
    const truth = softmax(lookupTable(vocab).slice(5 * vocab, 6 * vocab), temperature);
    const label = async () => {
      const teacher = await loadTeacher(dir, { temperature, threads: 1 });
      try {
        return await teacher.labelTokenIds(ids, { spec, window: 100, stride: 100, batchSize: 2 });
      } finally {
        await teacher.close();
      }
    };
    const rows = await label();
    expect(rows.length).toBe(ids.length);
    expect(worstDeviation(rows, truth, (spec as { samples: number }).samples)).toBeLessThan(5);
    for (let row = 0; row < rows.length; row++) {
      const count = rows.offsets[row + 1] - rows.offsets[row];
      expect(count).toBeLessThanOrEqual((spec.mode === 'hybrid' ? spec.kMax : 0) + (spec as { samples: number }).samples);
      const rowIds = rows.ids.subarray(rows.offsets[row], rows.offsets[row + 1]);
      expect(new Set(rowIds).size).toBe(count);
    }
    const again = await label();
    expect(Array.from(again.ids)).toEqual(Array.from(rows.ids));
    expect(Array.from(again.probs)).toEqual(Array.from(rows.probs));
  });

  it('a top-k row of the same positions fails the check (the check can fail)', async () => {
    const dir = await teacherFolder(tableModel({ vocab }), vocab);
    folders.push(dir);
    const teacher = await loadTeacher(dir, { threads: 1 });
    try {
      const rows = await teacher.labelTokenIds(ids, { spec: { mode: 'fixed', k: 8 } });
      expect(worstDeviation(rows, softmax(lookupTable(vocab).slice(5 * vocab, 6 * vocab)), 8)).toBeGreaterThan(5);
    } finally {
      await teacher.close();
    }
  });
});
