// The Parquet schema of a part (the column list the README documents) and the conversion
// between it and flat typed arrays, in both directions. Part-level tables (documents, unit
// table, id ranking, format) live in the file's key-value metadata under `kd.*` keys.
import * as arrow from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import { z } from 'zod';
import { CodecError } from './errors.js';
import { alphabetSize, maxCodeLength } from './id-context-coding.js';
import { unpackPadding } from './id-packing.js';
import { decodeRankingTable, encodeRankingTable } from './id-ranking-table.js';
import { quantizationSchemes, type QuantizationScheme } from './quantization.js';
import { takeColumns, type WasmColumn } from './wasm-columns.js';

export const columnNames = ['document', 'position', 'token_id', 'unit', 'gap_unit', 'overlap', 'kept', 'tail_mass', 'probs', 'ids'] as const;

/** Per-document facts of a part, as parallel arrays in document order. */
export interface PartDocuments {
  index: number[];
  id: string[];
  task: (string | null)[];
  tokens: number[];
  rows: number[];
  trailingUnit: (number | null)[];
}

interface PartFormatCommon {
  /** Fingerprint of the run header the part was written under (resume adopts only matching parts). */
  header: string;
  quantization: QuantizationScheme;
  unitHash: { name: 'fnv1a'; bits: number; seed: number };
  tokens: number;
  rows: number;
  units: number;
  unitCollisions: number;
}

/** Format version 1: ids as Rice-coded ranks, the ranking a JSON array (read only). */
export interface PartFormatV1 extends PartFormatCommon {
  formatVersion: 1;
  idPacking: 'rank-rice';
}

/** Format version 2: ids coded against a reference row (id-context-coding.ts). */
export interface PartFormatV2 extends PartFormatCommon {
  formatVersion: 2;
  idPacking: 'context-huffman';
  /** Canonical Huffman code length of each of the 89 id symbols (0: unused). */
  idCodeLengths: number[];
}

export type PartFormat = PartFormatV1 | PartFormatV2;

export interface BinaryColumn {
  /** length + 1 byte offsets into `data`. */
  offsets: Int32Array;
  data: Uint8Array;
}

/** A part as flat columns: what the builder produces and the reader decodes. */
export interface PartColumns {
  length: number;
  document: Uint32Array;
  position: Uint32Array;
  tokenId: Uint32Array;
  unit: Uint32Array;
  /** {@link noUnit} where the column is null. */
  gapUnit: Uint32Array;
  overlap: Uint32Array;
  kept: Uint16Array;
  tailMass: Uint16Array;
  probs: BinaryColumn;
  ids: BinaryColumn;
}

export interface PartContents extends PartColumns {
  format: PartFormat;
  documents: PartDocuments;
  units: { codes: number[]; texts: string[] };
  rankedIds: Uint32Array;
}

const metadataKeys = { format: 'kd.format', documents: 'kd.documents', units: 'kd.units', idRanking: 'kd.id_ranking' } as const;

const partFormatCommon = {
  header: z.string(),
  quantization: z.enum(quantizationSchemes as [QuantizationScheme, ...QuantizationScheme[]]),
  unitHash: z.object({ name: z.literal('fnv1a'), bits: z.number().int(), seed: z.number().int() }),
  tokens: z.number().int().nonnegative(),
  rows: z.number().int().nonnegative(),
  units: z.number().int().nonnegative(),
  unitCollisions: z.number().int().nonnegative(),
};
const partFormatSchema = z.discriminatedUnion('formatVersion', [
  z.object({ formatVersion: z.literal(1), idPacking: z.literal('rank-rice'), ...partFormatCommon }),
  z.object({ formatVersion: z.literal(2), idPacking: z.literal('context-huffman'), idCodeLengths: z.array(z.number().int().min(0).max(maxCodeLength)).length(alphabetSize), ...partFormatCommon }),
]);
const documentsSchema = z.object({
  index: z.array(z.number().int().nonnegative()),
  id: z.array(z.string()),
  task: z.array(z.string().nullable()),
  tokens: z.array(z.number().int().nonnegative()),
  rows: z.array(z.number().int().nonnegative()),
  trailingUnit: z.array(z.number().int().nonnegative().nullable()),
});
const unitsSchema = z.object({ codes: z.array(z.number().int().nonnegative()), texts: z.array(z.string()) });

/** Arrow validity bitmap (bit i set = row i is not null) from a 0/1 byte per row. */
function validityBitmap(present: Uint8Array): { bitmap: Uint8Array; nullCount: number } {
  const bitmap = new Uint8Array((present.length + 7) >>> 3);
  let nullCount = 0;
  for (let i = 0; i < present.length; i++) {
    if (present[i]) bitmap[i >>> 3] |= 1 << (i & 7);
    else nullCount++;
  }
  return { bitmap, nullCount };
}

const field = (name: string, type: arrow.DataType, nullable: boolean) => new arrow.Field(name, type, nullable);

/** Encodes a part as Parquet (ZSTD, `ids` uncompressed, one row group) with its tables in key-value metadata. */
export function writePartParquet(part: PartColumns & { hasRow: Uint8Array } & Omit<PartContents, keyof PartColumns>): Uint8Array {
  const n = part.length;
  const rowValidity = validityBitmap(part.hasRow);
  const gapPresent = new Uint8Array(n);
  for (let i = 0; i < n; i++) gapPresent[i] = part.gapUnit[i] === 0xffffffff ? 0 : 1;
  const gapValidity = validityBitmap(gapPresent);
  const gapValues = part.gapUnit.slice();
  for (let i = 0; i < n; i++) if (!gapPresent[i]) gapValues[i] = 0;

  const uint32 = (values: Uint32Array, validity?: { bitmap: Uint8Array; nullCount: number }) =>
    arrow.makeData({ type: new arrow.Uint32(), length: n, data: values, nullBitmap: validity?.bitmap, nullCount: validity?.nullCount ?? 0 });
  const uint16 = (values: Uint16Array, validity: { bitmap: Uint8Array; nullCount: number }) =>
    arrow.makeData({ type: new arrow.Uint16(), length: n, data: values, nullBitmap: validity.bitmap, nullCount: validity.nullCount });
  const binary = (column: BinaryColumn) =>
    arrow.makeData({
      type: new arrow.Binary(),
      length: n,
      valueOffsets: column.offsets,
      data: column.data,
      nullBitmap: rowValidity.bitmap,
      nullCount: rowValidity.nullCount,
    });

  const fields = [
    field('document', new arrow.Uint32(), false),
    field('position', new arrow.Uint32(), false),
    field('token_id', new arrow.Uint32(), false),
    field('unit', new arrow.Uint32(), false),
    field('gap_unit', new arrow.Uint32(), true),
    field('overlap', new arrow.Uint32(), false),
    field('kept', new arrow.Uint16(), true),
    field('tail_mass', new arrow.Uint16(), true),
    field('probs', new arrow.Binary(), true),
    field('ids', new arrow.Binary(), true),
  ];
  const children = [
    uint32(part.document),
    uint32(part.position),
    uint32(part.tokenId),
    uint32(part.unit),
    uint32(gapValues, gapValidity),
    uint32(part.overlap),
    uint16(part.kept, rowValidity),
    uint16(part.tailMass, rowValidity),
    binary(part.probs),
    binary(part.ids),
  ];
  const schema = new arrow.Schema(fields);
  const batch = new arrow.RecordBatch(schema, arrow.makeData({ type: new arrow.Struct(fields), length: n, children }));
  const table = new arrow.Table(schema, [batch]);

  const metadata = new Map<string, string>([
    [metadataKeys.format, JSON.stringify(part.format)],
    [metadataKeys.documents, JSON.stringify(part.documents)],
    [metadataKeys.units, JSON.stringify(part.units)],
    [metadataKeys.idRanking, part.format.formatVersion === 1 ? JSON.stringify(Array.from(part.rankedIds)) : encodeRankingTable(part.rankedIds)],
  ]);
  let builder = new parquet.WriterPropertiesBuilder()
    .setCompression(parquet.Compression.ZSTD)
    .setMaxRowGroupSize(Math.max(1, n))
    .setKeyValueMetadata(metadata);
  // Packed bytes never repeat as whole values; a dictionary would only cost time. Their lengths
  // go in one delta-coded block instead of a 4-byte prefix per value.
  for (const name of ['probs', 'ids']) {
    builder = builder.setColumnDictionaryEnabled(name, false).setColumnEncoding(name, parquet.Encoding.DELTA_LENGTH_BYTE_ARRAY);
  }
  // The ids are Rice-coded already: ZSTD on them saved about 1% of a part's bytes but was the
  // largest single cost of decoding it (docs/encodings.md), so they are stored uncompressed.
  builder = builder.setColumnCompression('ids', parquet.Compression.UNCOMPRESSED);
  const wasmTable = parquet.Table.fromIPCStream(arrow.tableToIPC(table, 'stream'));
  return parquet.writeParquet(wasmTable, builder.build());
}

function parseMetadata<T>(metadata: Map<string, string>, key: string, schema: z.ZodType<T>, file: string): T {
  const text = metadata.get(key);
  if (text === undefined) throw new CodecError('E_PART_FORMAT', `${file}: key-value metadata ${key} is missing; was this part written by @kd/codec-parquet?`);
  let parsed;
  try {
    parsed = schema.safeParse(JSON.parse(text));
  } catch (cause) {
    throw new CodecError('E_PART_FORMAT', `${file}: metadata ${key} is not valid JSON`, { cause });
  }
  if (!parsed.success) throw new CodecError('E_PART_FORMAT', `${file}: metadata ${key} is malformed: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Reads only the `kd.format` and `kd.documents` metadata of a part (cheap: no column data). */
export function readPartSummary(bytes: Uint8Array, file: string): { format: PartFormat; documents: PartDocuments } {
  let metadata: Map<string, string>;
  try {
    const schema = parquet.readSchema(bytes);
    metadata = schema.metadata();
    schema.free();
  } catch (cause) {
    throw new CodecError('E_PART_FORMAT', `${file} is not a readable Parquet file: ${String(cause)}`, { cause });
  }
  return {
    format: parseMetadata(metadata, metadataKeys.format, partFormatSchema, file) as PartFormat,
    documents: parseMetadata(metadata, metadataKeys.documents, documentsSchema, file),
  };
}

function column(columns: Map<string, WasmColumn>, name: string, format: string, file: string): WasmColumn {
  const found = columns.get(name);
  if (!found) throw new CodecError('E_PART_FORMAT', `${file}: column ${name} is missing; expected columns ${columnNames.join(', ')}`);
  if (found.format !== format) {
    throw new CodecError('E_PART_FORMAT', `${file}: column ${name} has Arrow type ${JSON.stringify(found.format)}; expected ${JSON.stringify(format)}`);
  }
  return found;
}

function uint32Column(columns: Map<string, WasmColumn>, name: string, file: string): Uint32Array {
  const { values, length } = column(columns, name, 'I', file);
  return new Uint32Array(values.buffer, values.byteOffset, length);
}

function uint16Column(columns: Map<string, WasmColumn>, name: string, file: string): Uint16Array {
  const { values, length } = column(columns, name, 'S', file);
  return new Uint16Array(values.buffer, values.byteOffset, length);
}

/** The gap_unit column with nulls turned into {@link noUnit}. */
function gapColumn(columns: Map<string, WasmColumn>, file: string): Uint32Array {
  const values = uint32Column(columns, 'gap_unit', file);
  const { present } = column(columns, 'gap_unit', 'I', file);
  if (present) for (let i = 0; i < values.length; i++) if (present[i] === 0) values[i] = 0xffffffff;
  return values;
}

/** A binary column; with `padding`, `data` also spans that many spare bytes after the values. */
function binaryColumn(columns: Map<string, WasmColumn>, name: string, file: string, padding = 0): BinaryColumn {
  const { values, valueOffsets } = column(columns, name, 'z', file);
  const offsets = valueOffsets as Int32Array;
  if (values.byteOffset + values.length + padding <= values.buffer.byteLength) {
    return { offsets, data: new Uint8Array(values.buffer, values.byteOffset, values.length + padding) };
  }
  const data = new Uint8Array(values.length + padding);
  data.set(values);
  return { offsets, data };
}

/** The id ranking, checked by hand: it can hold a whole vocabulary, too many for a schema walk. */
function parseRanking(text: string | undefined, file: string): Uint32Array {
  if (text === undefined) throw new CodecError('E_PART_FORMAT', `${file}: key-value metadata ${metadataKeys.idRanking} is missing`);
  let values: unknown;
  try {
    values = JSON.parse(text);
  } catch (cause) {
    throw new CodecError('E_PART_FORMAT', `${file}: metadata ${metadataKeys.idRanking} is not valid JSON`, { cause });
  }
  if (!Array.isArray(values)) throw new CodecError('E_PART_FORMAT', `${file}: metadata ${metadataKeys.idRanking} must be an array of ids`);
  const ranking = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const id = values[i];
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) {
      throw new CodecError('E_PART_FORMAT', `${file}: metadata ${metadataKeys.idRanking} entry ${i} is ${JSON.stringify(id)}; expected a teacher id`);
    }
    ranking[i] = id;
  }
  return ranking;
}

/** Decodes a whole part into flat columns plus its metadata tables. */
export function readPartParquet(bytes: Uint8Array, file: string): PartContents {
  const { format, documents } = readPartSummary(bytes, file);
  let columns: Map<string, WasmColumn>;
  let metadata: Map<string, string>;
  try {
    const wasmTable = parquet.readParquet(bytes, { batchSize: Math.max(1, format.tokens) });
    const schema = wasmTable.schema;
    metadata = schema.metadata();
    schema.free();
    columns = takeColumns(wasmTable, file);
  } catch (cause) {
    if (cause instanceof CodecError) throw cause;
    throw new CodecError('E_PART_FORMAT', `${file} could not be decoded as Parquet: ${String(cause)}`, { cause });
  }
  const n = column(columns, 'document', 'I', file).length;
  if (n !== format.tokens) throw new CodecError('E_PART_FORMAT', `${file}: ${n} rows; its metadata promises ${format.tokens} token positions`);
  const units = parseMetadata(metadata, metadataKeys.units, unitsSchema, file);
  const rankingText = metadata.get(metadataKeys.idRanking);
  const rankedIds =
    format.formatVersion === 1 || rankingText === undefined ? parseRanking(rankingText, file) : decodeRankingTable(rankingText, file);
  return {
    length: n,
    document: uint32Column(columns, 'document', file),
    position: uint32Column(columns, 'position', file),
    tokenId: uint32Column(columns, 'token_id', file),
    unit: uint32Column(columns, 'unit', file),
    gapUnit: gapColumn(columns, file),
    overlap: uint32Column(columns, 'overlap', file),
    kept: uint16Column(columns, 'kept', file),
    tailMass: uint16Column(columns, 'tail_mass', file),
    probs: binaryColumn(columns, 'probs', file),
    ids: binaryColumn(columns, 'ids', file, unpackPadding),
    format,
    documents,
    units,
    rankedIds,
  };
}
