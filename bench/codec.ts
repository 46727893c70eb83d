// Codec encode/decode speed and size on synthetic teacher-shaped rows (Zipf-like ids,
// descending probabilities), for k = 8, 32 and 64.
import { benchCodec } from '../packages/codec-parquet/bench/codec.js';
import { machine, table, type SectionResult } from './report.js';

export async function benchCodecSection(): Promise<Omit<SectionResult, 'command'>> {
  const rows = 1_000_000;
  const results = [];
  for (const k of [8, 32, 64]) results.push({ k, ...(await benchCodec({ rows, k, vocabSize: 32_000 })) });
  const markdown = [
    `${rows.toLocaleString('en')} rows (token positions) of synthetic teacher rows, V = 32,000, default quantization (u8-log); ZSTD on every column except the already Rice-coded ids. Decode includes the sha256 check of every part, Parquet read, dequantization, id unpacking and reverse lookup of the text units. Goal: decode ≥ 1M rows/s.`,
    '',
    table(
      ['k', 'encode rows/s', 'decode rows/s', 'bytes/row'],
      results.map((result) => [result.k, Math.round(result.encodeRowsPerSecond).toLocaleString('en'), Math.round(result.decodeRowsPerSecond).toLocaleString('en'), result.bytesPerRow.toFixed(1)]),
    ),
  ].join('\n');
  return { title: 'Codec encode and decode (@kd/codec-parquet)', date: new Date().toISOString().slice(0, 10), machine: machine(), markdown, data: results };
}
