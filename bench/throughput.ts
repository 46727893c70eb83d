// Labelling throughput end to end (tokenize, window, batch, teacher with Softmax+TopK in the
// graph, cut at p, encode and write Parquet) against the raw onnxruntime forward pass on the same
// padded batches, in one process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatasetWriter } from '@kd/codec-parquet';
import type { CompressionSpec } from '@kd/compress';
import { loadTeacher } from '@kd/teacher';
import { readCorpus } from '@kd/text';
import { benchTeacher } from '../packages/teacher/bench/throughput.js';
import { machine, table, type SectionResult } from './report.js';

const spec: CompressionSpec = { mode: 'adaptive', p: 0.95, kMin: 1, kMax: 64 };

/** kd label's own loop (teacher → codec writer) over the documents that make up `maxTokens`. */
async function labelAndWrite(teacherDir: string, corpusPath: string, maxTokens: number): Promise<{ tokens: number; tokensPerSecond: number }> {
  const work = mkdtempSync(join(tmpdir(), 'kd-bench-throughput-'));
  const teacher = await loadTeacher(teacherDir, { topK: 64 });
  try {
    const writer = await openDatasetWriter(join(work, 'out'), {
      teacher: { id: 'teacher-llama-13m', sha256: teacher.modelSha256 },
      tokenizer: { sha256: teacher.tokenizerSha256 },
      vocabSize: teacher.vocabSize,
      temperature: 1,
      compression: spec,
    });
    // The same documents as the teacher benchmark: whole documents until maxTokens is reached.
    const documents = [];
    let counted = 0;
    for await (const document of readCorpus(corpusPath)) {
      if (counted >= maxTokens) break;
      counted += (await teacher.tokenizer.frame(document.text)).ids.length;
      documents.push(document);
    }
    const started = performance.now();
    let tokens = 0;
    for await (const document of teacher.label(documents, { spec })) {
      await writer.append(document);
      tokens += document.tokenIds.length;
    }
    await writer.close();
    return { tokens, tokensPerSecond: tokens / ((performance.now() - started) / 1000) };
  } finally {
    await teacher.close();
    rmSync(work, { recursive: true, force: true });
  }
}

export async function benchThroughput(options: { teacherDir: string; corpusPath: string; maxTokens?: number }): Promise<Omit<SectionResult, 'command'>> {
  const maxTokens = options.maxTokens ?? 40_000;
  const teacherResult = await benchTeacher({ teacherDir: options.teacherDir, corpusPath: options.corpusPath, maxTokens, spec });
  const endToEnd = await labelAndWrite(options.teacherDir, options.corpusPath, maxTokens);
  const raw = teacherResult.rawForwardTokensPerSecond;
  const overhead = (rate: number) => `${((raw / rate - 1) * 100).toFixed(1)}%`;
  const markdown = [
    `${teacherResult.tokens} tokens from the start of \`../shared/corpus/dev.jsonl\`, batches of 8 windows of up to 256 tokens, adaptive p=0.95 kMax=64, onnxruntime-node CPU with 2 threads. ` +
      'The raw pass runs the original graph (full logits) on the same padded batches; overhead is the extra time per token relative to it (goal ≤ 10%). ' +
      'Tokens are labelled positions: documents longer than a window are read in windows of 256 with stride 128, so the model runs up to twice as many positions as it labels. ' +
      'Labelling beats the raw pass because the raw pass hands the full [8, 256, 32000] float32 logits (262 MB per batch) to JavaScript, while the fast path returns only the top 64 per position.',
    '',
    table(
      ['path', 'tokens/s', 'overhead vs raw forward'],
      [
        ['raw onnxruntime forward (full logits)', raw.toFixed(0), '—'],
        ['teacher.label (Softmax+TopK in graph, cut at p, rows)', teacherResult.labelTokensPerSecond.toFixed(0), overhead(teacherResult.labelTokensPerSecond)],
        ['kd label loop (teacher.label + Parquet writer)', endToEnd.tokensPerSecond.toFixed(0), overhead(endToEnd.tokensPerSecond)],
      ],
    ),
  ].join('\n');
  return { title: 'Labelling throughput', date: new Date().toISOString().slice(0, 10), machine: machine(), markdown, data: { ...teacherResult, endToEnd } };
}
