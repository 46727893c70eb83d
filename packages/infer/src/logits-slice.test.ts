import { readFile } from 'node:fs/promises';
import { InferenceSession } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { BatchForward, forwardAll } from './forward.js';
import { sliceLogitsGraph } from './logits-slice.js';
import { openRunner } from './runner.js';
import { teacherModel, tinyWithPastModel } from './test-fixtures.js';

describe('sliceLogitsGraph', () => {
  it.each([
    ['tiny-llama-with-past', tinyWithPastModel],
    ['teacher-llama-13m', teacherModel],
  ])('rewrites %s so that generation gets the same last-position logits as the graph as exported', async (_, path) => {
    const sliced = await openRunner(path, { threads: 1 });
    const plain = await openRunner(path, { threads: 1, sliceLogits: false });
    try {
      expect(sliced.signature.logitsFrom).toBe('kd_logits_from');
      expect(plain.signature.logitsFrom).toBeUndefined();
      const prompts = [Uint32Array.of(1, 415, 8463, 302, 272, 2969, 3543, 4579), Uint32Array.of(1, 816, 272, 905)];
      const a = new BatchForward(sliced, prompts, 2);
      const b = new BatchForward(plain, prompts, 2);
      const first = [await a.prefill(), await b.prefill()].map((logits) => Float32Array.from(logits));
      let worst = 0;
      for (let i = 0; i < first[0].length; i++) worst = Math.max(worst, Math.abs(first[0][i] - first[1][i]));
      expect(worst).toBeLessThan(1e-4);
      const next = [await a.step([13, 29871]), await b.step([13, 29871])];
      worst = 0;
      for (let i = 0; i < next[0].length; i++) worst = Math.max(worst, Math.abs(next[0][i] - next[1][i]));
      expect(worst).toBeLessThan(1e-4);
      // Scoring still sees every position.
      const all = await forwardAll(sliced, prompts[0], [8], 8);
      expect(all.length).toBe(8 * sliced.vocabSize);
    } finally {
      await sliced.session.release();
      await plain.session.release();
    }
  });

  it('leaves graphs it does not recognise alone', async () => {
    expect(sliceLogitsGraph(new TextEncoder().encode('not a graph'))).toBeUndefined();
    const bytes = sliceLogitsGraph(await readFile(tinyWithPastModel))!;
    // A graph already rewritten is not rewritten twice.
    expect(sliceLogitsGraph(bytes)).toBeUndefined();
    const session = await InferenceSession.create(bytes);
    expect(session.inputNames).toContain('kd_logits_from');
    await session.release();
  });
});
