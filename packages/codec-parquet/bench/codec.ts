// Encode/decode throughput and size of the codec on synthetic rows shaped like teacher output
// (Zipf-like ids, descending probabilities). Run: npx tsx packages/codec-parquet/bench/codec.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LabelledDocument } from '@kd/compress';
import { openDataset, openDatasetWriter, type QuantizationScheme } from '../src/index.js';
import { seededRandom, syntheticDocument } from '../src/synthetic.js';

export interface BenchCodecOptions {
  rows: number;
  k: number;
  vocabSize: number;
  quantization?: QuantizationScheme;
}

export interface BenchCodecResult {
  encodeRowsPerSecond: number;
  decodeRowsPerSecond: number;
  bytesPerRow: number;
}

const tokensPerDocument = 512;

export async function benchCodec(options: BenchCodecOptions): Promise<BenchCodecResult> {
  const random = seededRandom(7);
  const documents: LabelledDocument[] = [];
  for (let made = 0, index = 0; made < options.rows; index++) {
    const tokens = Math.min(tokensPerDocument, options.rows - made);
    documents.push(syntheticDocument(index, random, { tokens, k: options.k, vocabSize: options.vocabSize, task: 'text' }));
    made += tokens;
  }
  const root = await mkdtemp(join(tmpdir(), 'kd-codec-bench-'));
  const dir = join(root, 'dataset');
  try {
    const header = {
      teacher: { id: 'synthetic', sha256: '0'.repeat(64) },
      tokenizer: { sha256: '1'.repeat(64) },
      vocabSize: options.vocabSize,
      temperature: 1,
      compression: { mode: 'fixed' as const, k: options.k },
    };
    const encodeStart = performance.now();
    const writer = await openDatasetWriter(dir, header, { quantization: options.quantization });
    for (const document of documents) await writer.append(document);
    const manifest = await writer.close();
    const encodeSeconds = (performance.now() - encodeStart) / 1000;

    const decodeStart = performance.now();
    let decodedRows = 0;
    const reader = await openDataset(dir);
    for await (const document of reader.documents()) decodedRows += document.rows.length;
    const decodeSeconds = (performance.now() - decodeStart) / 1000;
    if (decodedRows !== options.rows) throw new Error(`decoded ${decodedRows} rows, wrote ${options.rows}`);
    return {
      encodeRowsPerSecond: options.rows / encodeSeconds,
      decodeRowsPerSecond: options.rows / decodeSeconds,
      bytesPerRow: manifest.totals.bytes / options.rows,
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = Number(process.argv[2] ?? 1_000_000);
  for (const k of [8, 32]) {
    const result = await benchCodec({ rows, k, vocabSize: 32_000 });
    console.log(JSON.stringify({ rows, k, vocabSize: 32_000, ...result }));
  }
}
