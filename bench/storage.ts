// Storage of teacher knowledge, setting by setting, on one subset of the shared corpus: bytes on
// disk (all columns and Parquet overhead), bytes per kept entry, captured mass and KL(full ‖
// decoded) against the full softmax, encode and decode rows/s (decode verifies every part's
// sha256), beside the DistillKit-style layout of the same rows and full fp32 / fp16 rows.
// Fixed and adaptive rows are cut from one top-64 pass (TopK(k) is a prefix of TopK(64));
// sampled and hybrid rows come from their own labelling pass, drawn inside the graph.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { datasetStats, openDataset, openDatasetWriter } from '@kd/codec-parquet';
import { describeSpec, FidelityMeter, softmax, type CompressionSpec, type LabelledDocument } from '@kd/compress';
import { loadTeacher } from '@kd/teacher';
import { readCorpus, type CorpusDocument } from '@kd/text';
import { cutRows } from './cut-rows.js';
import { machine, table, type SectionResult } from './report.js';

const settings: CompressionSpec[] = [
  { mode: 'fixed', k: 8 },
  { mode: 'fixed', k: 16 },
  { mode: 'fixed', k: 32 },
  { mode: 'fixed', k: 64 },
  { mode: 'adaptive', p: 0.9, kMin: 1, kMax: 64 },
  { mode: 'adaptive', p: 0.95, kMin: 1, kMax: 64 },
  { mode: 'adaptive', p: 0.99, kMin: 1, kMax: 64 },
  { mode: 'sampled', samples: 8, proposalTemperature: 1, seed: 0 },
  { mode: 'sampled', samples: 12, proposalTemperature: 1, seed: 0 },
  { mode: 'sampled', samples: 24, proposalTemperature: 1, seed: 0 },
  { mode: 'hybrid', p: 0.5, kMin: 1, kMax: 64, samples: 8, proposalTemperature: 1, seed: 0 },
  { mode: 'hybrid', p: 0.9, kMin: 1, kMax: 64, samples: 8, proposalTemperature: 1, seed: 0 },
];

export interface StorageOptions {
  teacherDir: string;
  corpusPath: string;
  /** Every how many documents of the corpus one is taken (the subset keeps all four tasks). */
  every: number;
  /** Positions per document measured against the full softmax (from the start: the first window's context). */
  fidelityPositions: number;
}

export async function benchStorage(options: StorageOptions): Promise<Omit<SectionResult, 'command'>> {
  const work = mkdtempSync(join(tmpdir(), 'kd-bench-storage-'));
  const teacher = await loadTeacher(options.teacherDir, { topK: 64 });
  try {
    const corpus: CorpusDocument[] = [];
    let seen = 0;
    for await (const document of readCorpus(options.corpusPath)) if (seen++ % options.every === 0) corpus.push(document);
    const vocab = teacher.vocabSize;
    const header = (spec: CompressionSpec) => ({
      teacher: { id: 'teacher-llama-13m', sha256: teacher.modelSha256 },
      tokenizer: { sha256: teacher.tokenizerSha256 },
      vocabSize: vocab,
      temperature: 1,
      compression: spec,
    });

    const labelled = async (spec: CompressionSpec) => {
      const documents: LabelledDocument[] = [];
      const started = performance.now();
      for await (const document of teacher.label(corpus, { spec })) documents.push(document);
      return { documents, seconds: (performance.now() - started) / 1000 };
    };
    const top64 = await labelled({ mode: 'fixed', k: 64 });
    const tokens = top64.documents.reduce((sum, document) => sum + document.tokenIds.length, 0);

    // Full softmax of each document's first positions, computed once for every setting.
    const full = new Map<number, Float32Array>();
    for (const document of top64.documents) {
      const length = Math.min(document.rows.length, options.fidelityPositions);
      const logits = await teacher.forwardLogits(Int32Array.from(document.tokenIds.subarray(0, length)), undefined, 1, length);
      for (let position = 0; position < length; position++) softmax(logits.subarray(position * vocab, (position + 1) * vocab), 1, logits.subarray(position * vocab, (position + 1) * vocab));
      full.set(document.index, logits);
    }

    const idBits = Math.ceil(Math.log2(vocab));
    const rows: (string | number)[][] = [];
    const data: Record<string, unknown>[] = [];
    for (const [i, spec] of settings.entries()) {
      const source = spec.mode === 'fixed' || spec.mode === 'adaptive' ? { documents: top64.documents.map((document) => cutRows(document, spec)), seconds: top64.seconds } : await labelled(spec);
      const dir = join(work, String(i));
      let started = performance.now();
      const writer = await openDatasetWriter(dir, header(spec));
      for (const document of source.documents) await writer.append(document);
      await writer.close();
      const encodeSeconds = (performance.now() - started) / 1000;
      const stats = await datasetStats(dir);
      const entries = stats.meanKept * stats.rows;

      // Decode alone (sha256 checked per part), then fidelity on the decoded rows.
      started = performance.now();
      let decodedRows = 0;
      for await (const document of (await openDataset(dir)).documents()) decodedRows += document.rows.length;
      const decodeSeconds = (performance.now() - started) / 1000;
      const meter = new FidelityMeter();
      for await (const document of (await openDataset(dir)).documents()) {
        const probabilities = full.get(document.index)!;
        const length = probabilities.length / vocab;
        const { offsets, ids, probs, tailMass } = document.rows;
        for (let position = 0; position < length; position++) {
          meter.add(
            probabilities.subarray(position * vocab, (position + 1) * vocab),
            { ids: ids.subarray(offsets[position], offsets[position + 1]), probs: probs.subarray(offsets[position], offsets[position + 1]), tailMass: tailMass[position]! },
            position + 1 < document.tokenIds.length ? document.tokenIds[position + 1] : undefined,
          );
        }
      }
      const fidelity = meter.report();
      const distillKitBytes = (entries * (idBits + 16)) / 8 / stats.tokens;
      rows.push([
        describeSpec(spec).replace(/ kMin=1| proposalTemperature=1| seed=0/g, ''),
        stats.bytesPerToken.toFixed(2),
        (stats.bytes / entries).toFixed(3),
        stats.meanKept.toFixed(2),
        fidelity.capturedMass.toFixed(4),
        fidelity.klFullDecoded.toFixed(4),
        (100 * fidelity.top1Agreement).toFixed(1),
        fidelity.ece.toFixed(4),
        `${Math.round(stats.rows / encodeSeconds / 1000)}k`,
        `${Math.round(decodedRows / decodeSeconds / 1000)}k`,
        distillKitBytes.toFixed(2),
      ]);
      data.push({ spec, ...stats, bytesPerEntry: stats.bytes / entries, ...fidelity, encodeRowsPerSecond: stats.rows / encodeSeconds, decodeRowsPerSecond: decodedRows / decodeSeconds, distillKitBytesPerToken: distillKitBytes, labelSeconds: source.seconds });
    }
    const markdown = [
      `${tokens} tokens of \`${options.corpusPath.replace(/.*\/shared\//, '../shared/')}\` (every ${options.every}th document, ${corpus.length} documents of all four tasks: a subset, to keep the run short on a 2-core machine shared with other work, which was loaded while this ran), ` +
        `teacher \`teacher-llama-13m\` (V = ${vocab}), τ = 1, \`u8-log\` quantization. Bytes are whole Parquet parts (every column, metadata and tables included) divided by token positions; ` +
        `bytes per kept entry divide the same bytes by the entries kept. Captured mass (the full distribution's mass on the kept ids), KL(full ‖ decoded) (the tail, or at least 7.6e-6, spread over the ids not kept), ` +
        `top-1 agreement and ECE (of the row's first entry as a next-token prediction, 15 bins; the full softmax's own ECE is ${(data[0] as { eceFull: number }).eceFull.toFixed(4)}) ` +
        `are means over the first ${options.fidelityPositions} positions of every document (${(data[0] as { positions: number }).positions} positions), decoded from disk. ` +
        'Encode rows/s: `append` + `close` of the whole dataset; decode rows/s: reading every document back, sha256 included; on this small dataset both include per-part fixed costs (one part per setting). ' +
        `DistillKit-style: the same kept entries at ⌈log₂V⌉ = ${idBits} bits per id plus a 16-bit value, bit-packed, no other column; full rows: fp32 ${vocab * 4} and fp16 ${vocab * 2} bytes per token.`,
      '',
      'Sampled rows are unbiased estimates (see `packages/compress/README.md`): their per-row KL is large by design (a row of n draws is noisy), and what they buy is a target whose mean over positions is the full distribution; fixed and adaptive rows are exact where they keep an id and biased (0) everywhere else.',
      '',
      table(['setting', 'bytes / token', 'bytes / kept entry', 'mean kept', 'captured mass', 'KL(full‖decoded)', 'top-1 agree %', 'ECE', 'encode rows/s', 'decode rows/s', 'DistillKit-style bytes / token'], rows),
    ].join('\n');
    return { title: 'Storage', date: new Date().toISOString().slice(0, 10), machine: machine(), markdown, data };
  } finally {
    await teacher.close();
    rmSync(work, { recursive: true, force: true });
  }
}
