// Labelling against the teacher's own speed: the honest limit is the same teacher forward on the
// same batches with only an in-graph ArgMax after the logits (nothing vocabulary-sized leaves the
// graph). Against it: kd label's loop (Softmax + TopK in the graph, the cut at p, rows, Parquet
// encoding and writing). Also: positions the teacher computes (batch × sequence, padding and
// window overlaps included) per labelled token, for the old window 256 / stride 128 / 8-window
// batches and for the defaults (window up to 1024, batches of at most 2048 positions).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatasetWriter } from '@kd/codec-parquet';
import type { CompressionSpec } from '@kd/compress';
import { loadTeacher } from '@kd/teacher';
import { readCorpus, type CorpusDocument } from '@kd/text';
import { packBatches, type BatchOptions } from '../packages/teacher/src/batches.js';
import { argmaxRunner } from '../packages/teacher/bench/argmax-limit.js';
import type { PaddedBatch } from '../packages/teacher/src/feeds.js';
import { machine, table, type SectionResult } from './report.js';

async function computedPositions(tokenized: { tokenIds: Uint32Array }[], options: BatchOptions): Promise<{ computed: number; batches: PaddedBatch[] }> {
  let computed = 0;
  const batches: PaddedBatch[] = [];
  for await (const packed of packBatches(tokenized, options)) {
    if (packed.slots.length === 0) continue;
    computed += packed.padded.batch * packed.padded.sequence;
    batches.push(packed.padded);
  }
  return { computed, batches };
}

export async function benchLabelSpeed(options: { teacherDir: string; corpusPath: string; every: number; rounds: number }): Promise<Omit<SectionResult, 'command'>> {
  const spec: CompressionSpec = { mode: 'adaptive', p: 0.95, kMin: 1, kMax: 64 };
  const work = mkdtempSync(join(tmpdir(), 'kd-bench-label-speed-'));
  const teacher = await loadTeacher(options.teacherDir, { topK: 64 });
  try {
    const documents: CorpusDocument[] = [];
    let seen = 0;
    for await (const document of readCorpus(options.corpusPath)) if (seen++ % options.every === 0) documents.push(document);
    const tokenize = async () => {
      const tokenized: { tokenIds: Uint32Array }[] = [];
      for (const document of documents) {
        const { ids } = await teacher.tokenizer.encode(document.text);
        tokenized.push({ tokenIds: Uint32Array.of(teacher.tokenizer.roles.bos ?? 0, ...ids, teacher.tokenizer.roles.eos ?? 0) });
      }
      return tokenized;
    };
    const tokenized = await tokenize();
    const tokens = tokenized.reduce((sum, document) => sum + document.tokenIds.length, 0);
    const padId = teacher.tokenizer.roles.eos ?? 0;
    const old = await computedPositions(tokenized, { batchSize: 8, window: Math.min(256, teacher.contextLength), stride: 128, padId });
    const window = Math.min(teacher.contextLength, 1024);
    const current = await computedPositions(tokenized, { batchSize: 64, batchTokens: 2048, window, stride: window / 2, padId });

    // The limit: the teacher's graph with ArgMax as its only output.
    const argmax = await argmaxRunner(teacher);

    const limitRun = async () => {
      const started = performance.now();
      const again = await tokenize();
      for await (const packed of packBatches(again, { batchSize: 64, batchTokens: 2048, window, stride: window / 2, padId })) {
        if (packed.slots.length > 0) await argmax.run(packed.padded);
      }
      return (performance.now() - started) / 1000;
    };
    let run = 0;
    const labelRun = async () => {
      const writer = await openDatasetWriter(join(work, String(run++)), {
        teacher: { id: 'teacher-llama-13m', sha256: teacher.modelSha256 },
        tokenizer: { sha256: teacher.tokenizerSha256 },
        vocabSize: teacher.vocabSize,
        temperature: 1,
        compression: spec,
      });
      const started = performance.now();
      for await (const document of teacher.label(documents, { spec })) await writer.append(document);
      await writer.close();
      return (performance.now() - started) / 1000;
    };
    // Warm both sessions, then alternate; the best of each is reported (the machine is shared).
    await limitRun();
    await labelRun();
    const limits: number[] = [];
    const labels: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      limits.push(await limitRun());
      labels.push(await labelRun());
    }
    const limit = Math.min(...limits);
    const label = Math.min(...labels);
    const overhead = (label / limit - 1) * 100;
    const data = { tokens, documents: documents.length, limitSeconds: limits, labelSeconds: labels, overheadPercent: overhead, computedPerLabelledOld: old.computed / tokens, computedPerLabelled: current.computed / tokens };
    const markdown = [
      `${tokens} tokens of \`${options.corpusPath.replace(/.*\/shared\//, '../shared/')}\` (every ${options.every}th document, ${documents.length} documents: a subset, on a 2-core machine shared with other work and loaded while this ran), teacher \`teacher-llama-13m\`, adaptive p = 0.95, kMax 64. ` +
        `Best of ${options.rounds} alternating runs each, after one warm-up run of both. The limit tokenizes, batches and runs the same batches through the teacher with only ArgMax appended (no vocabulary-sized output); ` +
        'label runs `teacher.label` with Softmax + TopK in the graph, the cut at p, the rows and the Parquet writer (`append` + `close`).',
      '',
      table(
        ['', 'seconds', 'tokens/s'],
        [
          ['limit: same forward, same batches, in-graph ArgMax only', limit.toFixed(2), Math.round(tokens / limit)],
          ['kd label loop (select, quantize, encode, write)', label.toFixed(2), Math.round(tokens / label)],
          ['overhead over the limit', `${overhead.toFixed(1)}%`, ''],
        ],
      ),
      '',
      table(
        ['batching', 'positions computed per labelled token'],
        [
          ['window 256, stride 128, 8 windows per batch (before)', (old.computed / tokens).toFixed(3)],
          [`window ${window}, stride ${window / 2}, ≤ 2048 positions per batch (default now)`, (current.computed / tokens).toFixed(3)],
        ],
      ),
    ].join('\n');
    await argmax.release();
    return { title: "Labelling against the teacher's own speed", date: new Date().toISOString().slice(0, 10), machine: machine(), markdown, data };
  } finally {
    await teacher.close();
    rmSync(work, { recursive: true, force: true });
  }
}
