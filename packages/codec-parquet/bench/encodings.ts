// Measures the choices behind the format on real or synthetic rows: KL(decoded ‖ original) and
// ZSTD-compressed bytes of each quantization scheme, bits per id of the id packing against
// fixed width and ZSTD over raw ids, the Parquet codec of the packed columns (bytes and decode
// time), and the id unpacking speed. Results are written up in docs/encodings.md.
// Run: npx tsx packages/codec-parquet/bench/encodings.ts [rows.bin K0]   (rows.bin: n·K0 uint32 ids, then n·K0 float32 probs)
import { readFileSync } from 'node:fs';
import * as arrow from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import { BitSink, packIds, rankIds, unpackIdRows, unpackPadding } from '../src/id-packing.js';
import { bytesPerProbability, dequantizeProbabilities, quantizationSchemes, quantizeProbabilities } from '../src/quantization.js';
import { seededRandom, syntheticRows } from '../src/synthetic.js';

interface Rows {
  count: number;
  width: number;
  ids: Uint32Array;
  probs: Float32Array;
}

function loadRows(path: string | undefined, width: number): Rows {
  if (!path) {
    const rows = syntheticRows(seededRandom(3), 20_000, 64, 32_000);
    return { count: rows.length, width: 64, ids: rows.ids, probs: rows.probs };
  }
  const buffer = readFileSync(path);
  const count = buffer.length / 8 / width;
  const copy = new Uint8Array(buffer).buffer;
  return { count, width, ids: new Uint32Array(copy, 0, count * width), probs: new Float32Array(copy, count * width * 4, count * width) };
}

/** CPU milliseconds of the fastest of `runs` calls (the machine may be shared: CPU time, best of several). */
function cpuMilliseconds(run: () => void, runs = 15): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const start = process.cpuUsage();
    run();
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return best;
}

/** Bytes per row and decode time (read + free in parquet-wasm) of one packed column under each codec. */
function codecTable(name: string, rowBytes: Uint8Array, rowOffsets: Int32Array): string {
  const count = rowOffsets.length - 1;
  const data = arrow.makeData({ type: new arrow.Binary(), length: count, valueOffsets: rowOffsets, data: rowBytes });
  const ipc = arrow.tableToIPC(new arrow.Table({ column: arrow.makeVector(data) }), 'stream');
  const codecs = ['UNCOMPRESSED', 'ZSTD', 'LZ4_RAW', 'SNAPPY'] as const;
  const cells = codecs.map((codec) => {
    const properties = new parquet.WriterPropertiesBuilder()
      .setCompression(parquet.Compression[codec])
      .setDictionaryEnabled(false)
      .setEncoding(parquet.Encoding.DELTA_LENGTH_BYTE_ARRAY)
      .setMaxRowGroupSize(count)
      .build();
    const file = parquet.writeParquet(parquet.Table.fromIPCStream(ipc), properties);
    const milliseconds = cpuMilliseconds(() => parquet.readParquet(file, { batchSize: count }).free());
    return `${codec} ${(file.length / count).toFixed(2)} B/row ${((milliseconds * 1e6) / count).toFixed(0)} ns/row`;
  });
  return `${name} column: ${cells.join(' | ')}`;
}

function zstdBytes(rowBytes: Uint8Array, rowLength: Int32Array): number {
  const data = arrow.makeData({ type: new arrow.Binary(), length: rowLength.length - 1, valueOffsets: rowLength, data: rowBytes });
  const table = new arrow.Table({ column: arrow.makeVector(data) });
  const properties = new parquet.WriterPropertiesBuilder().setCompression(parquet.Compression.ZSTD).setDictionaryEnabled(false).build();
  return parquet.writeParquet(parquet.Table.fromIPCStream(arrow.tableToIPC(table, 'stream')), properties).length;
}

/** KL(decoded ‖ original) in nats over the kept entries plus one tail bucket, both normalized. */
function klDecodedToOriginal(original: Float32Array, decoded: Float32Array, k: number, tail: number): number {
  let decodedSum = tail;
  for (let i = 0; i < k; i++) decodedSum += decoded[i];
  let kl = 0;
  for (let i = 0; i < k; i++) {
    const q = decoded[i] / decodedSum;
    if (q > 0) kl += q * Math.log(q / Math.max(original[i], 1e-30));
  }
  const tailQ = tail / decodedSum;
  if (tailQ > 0) kl += tailQ * Math.log(tailQ / tail);
  return kl;
}

function measure(rows: Rows, k: number): void {
  const { count } = rows;
  console.log(`\nk = ${k}, ${count} rows`);
  const original = new Float32Array(k);
  const decoded = new Float32Array(k);
  for (const scheme of quantizationSchemes) {
    const width = bytesPerProbability(scheme);
    const bytes = new Uint8Array(count * k * width);
    const offsets = new Int32Array(count + 1);
    let klSum = 0;
    let klMax = 0;
    for (let r = 0; r < count; r++) {
      original.set(rows.probs.subarray(r * rows.width, r * rows.width + k));
      let kept = 0;
      for (let i = 0; i < k; i++) kept += original[i];
      const tail = Math.max(1e-12, 1 - kept);
      quantizeProbabilities(scheme, original, 0, k, bytes, r * k * width);
      dequantizeProbabilities(scheme, bytes, r * k * width, k, decoded, 0);
      const kl = klDecodedToOriginal(original, decoded, k, tail);
      klSum += kl;
      klMax = Math.max(klMax, kl);
      offsets[r + 1] = (r + 1) * k * width;
    }
    console.log(`${scheme.padEnd(11)} mean KL ${(klSum / count).toExponential(2)} nats, max ${klMax.toExponential(2)}, ZSTD ${(zstdBytes(bytes, offsets) / count).toFixed(1)} bytes/row`);
  }
  const ids = new Uint32Array(count * k);
  for (let r = 0; r < count; r++) ids.set(rows.ids.subarray(r * rows.width, r * rows.width + k), r * k);
  const ranking = rankIds(ids, 32_000);
  const sink = new BitSink();
  const scratch = new Uint32Array(k);
  const packedOffsets = new Int32Array(count + 1);
  for (let r = 0; r < count; r++) {
    packIds(ids, r * k, k, ranking, sink, scratch);
    packedOffsets[r + 1] = sink.length;
  }
  const raw = new Uint8Array(new Uint16Array(ids).buffer);
  const rawOffsets = Int32Array.from({ length: count + 1 }, (_, r) => r * k * 2);
  const perId = (bytes: number) => ((bytes * 8) / (count * k)).toFixed(2);
  const u8Bytes = new Uint8Array(count * k);
  const u8Offsets = Int32Array.from({ length: count + 1 }, (_, r) => r * k);
  for (let r = 0; r < count; r++) quantizeProbabilities('u8-log', rows.probs, r * rows.width, k, u8Bytes, r * k);
  console.log(codecTable('probs (u8-log)', u8Bytes, u8Offsets));
  console.log(codecTable('ids (rank-rice)', sink.bytes.subarray(0, sink.length), packedOffsets));
  const padded = new Uint8Array(sink.length + unpackPadding);
  padded.set(sink.bytes.subarray(0, sink.length));
  const kept = new Uint16Array(count).fill(k);
  const unpacked = new Uint32Array(count * k);
  const unpack = () => unpackIdRows(padded, packedOffsets, kept, 0, count, ranking.rankedIds, unpacked, 0);
  // Warmed up first: V8 reaches its optimizing tier for this loop only after a few dozen calls.
  for (let i = 0; i < 30; i++) unpack();
  const unpackMilliseconds = cpuMilliseconds(unpack);
  console.log(`id unpacking: ${((unpackMilliseconds * 1e6) / (count * k)).toFixed(1)} ns/id`);
  console.log(`ids: fixed width ${Math.ceil(Math.log2(32_000))} bits/id; uint16 + ZSTD ${perId(zstdBytes(raw, rawOffsets))}; rank-rice ${perId(sink.length)} (+ ranking ${perId(ranking.rankedIds.length * 2)}), rank-rice + ZSTD ${perId(zstdBytes(sink.bytes.subarray(0, sink.length), packedOffsets))}`);
}

const rows = loadRows(process.argv[2], Number(process.argv[3] ?? 64));
for (const k of [8, 32]) measure(rows, k);
