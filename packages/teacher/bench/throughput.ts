// Labelling throughput against the raw forward pass of the same teacher on the same padded
// batches, in one process: the cost of the fast path (softmax + top-k in the graph, the cut at p,
// building rows) and of tokenization, as a percentage of the forward pass.
//
// Run: cd packages/teacher && npx tsx bench/throughput.ts [maxTokens]
import type { CompressionSpec } from '@kd/compress';
import { packBatches } from '../src/batches.js';
import { readCorpus, type CorpusDocument } from '@kd/text';
import { loadTeacher } from '../src/teacher.js';
import { devCorpus, teacherDir } from '../src/test-fixtures.js';

export interface TeacherBenchResult {
  labelTokensPerSecond: number;
  rawForwardTokensPerSecond: number;
  overheadPercent: number;
  tokens: number;
}

export async function benchTeacher(options: { teacherDir: string; corpusPath: string; maxTokens: number; spec: CompressionSpec }): Promise<TeacherBenchResult> {
  const teacher = await loadTeacher(options.teacherDir);
  try {
    const window = Math.min(teacher.contextLength, 256);
    const batchOptions = { batchSize: 8, window, stride: window / 2, padId: teacher.tokenizer.roles.eos ?? 0 };
    // Tokenize up front for the raw pass only: the label pass tokenizes as part of its work.
    const documents: CorpusDocument[] = [];
    const tokenized: { tokenIds: Uint32Array }[] = [];
    let tokens = 0;
    for await (const document of readCorpus(options.corpusPath)) {
      if (tokens >= options.maxTokens) break;
      const { ids: tokenIds } = await teacher.tokenizer.frame(document.text);
      documents.push(document);
      tokenized.push({ tokenIds });
      tokens += tokenIds.length;
    }
    const batches = [];
    for await (const batch of packBatches(tokenized, batchOptions)) if (batch.slots.length > 0) batches.push(batch.padded);

    // One warm-up run on each session so neither pays first-run allocation in the timing.
    await teacher.forwardLogits(batches[0].ids, batches[0].mask, batches[0].batch, batches[0].sequence);
    for await (const _ of teacher.label(documents.slice(0, 1), { spec: options.spec })) void _;

    let started = performance.now();
    for (const batch of batches) await teacher.forwardLogits(batch.ids, batch.mask, batch.batch, batch.sequence);
    const rawSeconds = (performance.now() - started) / 1000;

    started = performance.now();
    let labelled = 0;
    for await (const document of teacher.label(documents, { spec: options.spec, batchSize: batchOptions.batchSize, window })) labelled += document.rows.length;
    const labelSeconds = (performance.now() - started) / 1000;
    if (labelled !== tokens) throw new Error(`label produced ${labelled} rows for ${tokens} tokens`);

    const rawForwardTokensPerSecond = tokens / rawSeconds;
    const labelTokensPerSecond = tokens / labelSeconds;
    return { labelTokensPerSecond, rawForwardTokensPerSecond, overheadPercent: (rawForwardTokensPerSecond / labelTokensPerSecond - 1) * 100, tokens };
  } finally {
    await teacher.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const maxTokens = Number(process.argv[2] ?? 20_000);
  for (const spec of [{ mode: 'fixed', k: 8 }, { mode: 'adaptive', p: 0.95, kMin: 1, kMax: 64 }] as CompressionSpec[]) {
    const result = await benchTeacher({ teacherDir, corpusPath: devCorpus, maxTokens, spec });
    console.log(JSON.stringify({ spec, ...result }));
  }
}
