// Reading a labelled dataset back: the manifest is checked against what the caller expects,
// each part's sha256 is checked before any of its rows is decoded, and documents are rebuilt
// with typed arrays only (no per-token objects).
import { join } from 'node:path';
import * as parquet from 'parquet-wasm';
import type { LabelledDocument } from '@kd/compress';
import { CodecError } from './errors.js';
import { readBytes, sha256Hex } from './files.js';
import { decodePartIds, decodeTable } from './id-context-coding.js';
import { unpackIdRows } from './id-packing.js';
import { headerFingerprint, type Manifest, type ManifestPart, readManifest } from './manifest.js';
import { type PartContents, readPartParquet } from './part-schema.js';
import { dequantizeRows, dequantizeTailMass } from './quantization.js';
import { renormalizeRows } from './renormalize.js';
import { joinUnits, unitLookup } from './units.js';
import { takeColumns } from './wasm-columns.js';

export interface OpenDatasetOptions {
  /** Refuse the dataset (E_TOKENIZER_MISMATCH) unless it was labelled with this tokenizer.json sha256. */
  expectTokenizerSha256?: string;
  /** Check each part's sha256 before decoding it (default true). */
  verify?: boolean;
  /** Read a dataset whose writer was never closed (its stored parts only). Default false. */
  allowIncomplete?: boolean;
  /**
   * Scale each decoded row so that its probabilities and tail mass sum to exactly 1. Quantized
   * rows are off by up to the scheme's error (u8-log: about ±2.8 %). Default false: values as stored.
   */
  renormalize?: boolean;
}

export interface DatasetReader {
  readonly manifest: Manifest;
  /** The stored documents in corpus order, part by part. */
  documents(): AsyncGenerator<LabelledDocument>;
  /**
   * The documents of one part (0 ≤ index < manifest.parts.length), decoded on their own: random
   * access for a reader that visits parts in its own order and holds one part at a time.
   */
  part(index: number): Promise<LabelledDocument[]>;
}

export async function openDataset(dir: string, options: OpenDatasetOptions = {}): Promise<DatasetReader> {
  const manifest = await readManifest(dir);
  const expected = options.expectTokenizerSha256;
  if (expected !== undefined && expected !== manifest.tokenizer.sha256) {
    throw new CodecError(
      'E_TOKENIZER_MISMATCH',
      `${dir} was labelled with tokenizer sha256 ${manifest.tokenizer.sha256}, but tokenizer sha256 ${expected} is expected; ` +
        'use the teacher tokenizer the dataset was labelled with, or relabel the corpus with this one',
    );
  }
  if (!manifest.complete && !options.allowIncomplete) {
    throw new CodecError(
      'E_INCOMPLETE',
      `${dir} is incomplete (its writer was not closed; ${manifest.totals.documents} documents stored); ` +
        'resume the labelling run to finish it, or pass { allowIncomplete: true } to read the stored documents',
    );
  }
  const verify = options.verify ?? true;
  const fingerprint = headerFingerprint(manifest, manifest.quantization);
  const decodePart = async (part: ManifestPart) => {
    const bytes = await readBytes(join(dir, part.file));
    if (verify) checkPart(bytes, part.file, part.sha256);
    const contents = readPartParquet(bytes, part.file);
    if (contents.format.formatVersion !== manifest.formatVersion) {
      throw new CodecError('E_PART_FORMAT', `${part.file} is stored in format version ${contents.format.formatVersion}; the manifest says ${manifest.formatVersion}`);
    }
    if (contents.format.quantization !== manifest.quantization) {
      throw new CodecError('E_PART_FORMAT', `${part.file} uses quantization ${contents.format.quantization}; the manifest says ${manifest.quantization}`);
    }
    // A manifest edited to claim another teacher, tokenizer or compression must not pass for it.
    if (verify && contents.format.header !== fingerprint) {
      throw new CodecError('E_MANIFEST', `${part.file} was written under another header than manifest.json states (teacher, tokenizer, vocabulary, temperature or compression); run verifyDataset for details`);
    }
    const documents = [...decodeDocuments(contents, part.file, manifest.vocabSize)];
    if (options.renormalize) for (const document of documents) renormalizeRows(document.rows);
    return documents;
  };
  return {
    manifest,
    async *documents() {
      for (const part of manifest.parts) yield* await decodePart(part);
    },
    async part(index) {
      const part = manifest.parts[index];
      if (!Number.isInteger(index) || part === undefined) {
        throw new CodecError('E_INPUT', `part ${index} does not exist: ${dir} has ${manifest.parts.length} parts (0 … ${manifest.parts.length - 1})`);
      }
      return decodePart(part);
    },
  };
}

function checkPart(bytes: Uint8Array, file: string, expectedSha256: string): void {
  const found = sha256Hex(bytes);
  if (found !== expectedSha256) {
    throw new CodecError(
      'E_CHECKSUM',
      `${file}: sha256 mismatch (expected ${expectedSha256}, got ${found}); the part is damaged: restore it from a copy or relabel its documents`,
    );
  }
}

/** Rebuilds the documents of one decoded part, in order. */
export function* decodeDocuments(part: PartContents, file: string, vocabSize: number): Generator<LabelledDocument> {
  const { documents, format } = part;
  const lookup = unitLookup(part.units.codes, part.units.texts);
  let tokenTotal = 0;
  for (const tokens of documents.tokens) tokenTotal += tokens;
  if (tokenTotal !== part.length) {
    throw new CodecError('E_PART_FORMAT', `${file}: documents add up to ${tokenTotal} token positions; the part has ${part.length} rows`);
  }
  // Format 2 codes a row's ids against earlier rows of the part, across documents: the whole
  // part's ids are decoded first, then each document copies its own.
  let partIds: Uint32Array | undefined;
  if (format.formatVersion === 2) {
    const rowRanges = new Int32Array(2 * documents.index.length);
    let entries = 0;
    for (let d = 0, first = 0; d < documents.index.length; first += documents.tokens[d], d++) {
      const rowCount = documents.rows[d];
      if (rowCount > documents.tokens[d]) throw new CodecError('E_PART_FORMAT', `${file}: document ${documents.index[d]} has ${rowCount} rows for ${documents.tokens[d]} tokens`);
      rowRanges[2 * d] = first;
      rowRanges[2 * d + 1] = rowCount;
      for (let t = first; t < first + rowCount; t++) entries += part.kept[t];
    }
    partIds = new Uint32Array(entries);
    const table = decodeTable(format.idCodeLengths, file);
    decodePartIds({ data: part.ids.data, offsets: part.ids.offsets, kept: part.kept, tokenId: part.tokenId }, rowRanges, table, part.rankedIds, vocabSize, partIds, file);
  }
  let position = 0;
  let idCursor = 0;
  for (let d = 0; d < documents.index.length; d++) {
    const tokens = documents.tokens[d];
    const rowCount = documents.rows[d];
    if (rowCount > tokens) throw new CodecError('E_PART_FORMAT', `${file}: document ${documents.index[d]} has ${rowCount} rows for ${tokens} tokens`);
    const { text, offsets } = joinUnits(lookup, part.unit, part.gapUnit, part.overlap, position, tokens, documents.trailingUnit[d]);
    const tokenIds = part.tokenId.slice(position, position + tokens);

    let entries = 0;
    for (let t = 0; t < rowCount; t++) entries += part.kept[position + t];
    const rowOffsets = new Uint32Array(rowCount + 1);
    const ids = partIds === undefined ? new Uint32Array(entries) : partIds.slice(idCursor, idCursor + entries);
    idCursor += entries;
    const probs = new Float32Array(entries);
    const tailMass = new Float32Array(rowCount);
    let cursor = 0;
    for (let t = 0; t < rowCount; t++) {
      cursor += part.kept[position + t];
      rowOffsets[t + 1] = cursor;
      tailMass[t] = dequantizeTailMass(part.tailMass[position + t]);
    }
    const badRow = dequantizeRows(format.quantization, part.probs.data, part.probs.offsets, part.kept, position, rowCount, probs);
    if (badRow >= 0) {
      const stored = part.probs.offsets[badRow + 1] - part.probs.offsets[badRow];
      throw new CodecError('E_PART_FORMAT', `${file}: row ${badRow} stores ${stored} probability bytes for ${part.kept[badRow]} kept entries`);
    }
    if (partIds === undefined) unpackIdRows(part.ids.data, part.ids.offsets, part.kept, position, rowCount, part.rankedIds, ids, 0);
    const document: LabelledDocument = {
      index: documents.index[d],
      id: documents.id[d],
      text,
      tokenIds,
      offsets,
      rows: { length: rowCount, offsets: rowOffsets, ids, probs, tailMass },
    };
    const task = documents.task[d];
    if (task !== null) document.task = task;
    yield document;
    position += tokens;
  }
}

export interface DatasetStats {
  documents: number;
  tokens: number;
  /** Positions that carry a sparse distribution. */
  rows: number;
  /** Bytes of all parts. */
  bytes: number;
  bytesPerToken: number;
  /** Mean kept entries per row. */
  meanKept: number;
  /** Mean tail mass per row (as stored, after quantization). */
  meanTailMass: number;
  parts: number;
}

/** Sizes and averages of a dataset; reads only the `kept` and `tail_mass` columns. */
export async function datasetStats(dir: string): Promise<DatasetStats> {
  const manifest = await readManifest(dir);
  let keptSum = 0;
  let tailSum = 0;
  let rows = 0;
  for (const part of manifest.parts) {
    const bytes = await readBytes(join(dir, part.file));
    let columns;
    try {
      columns = takeColumns(parquet.readParquet(bytes, { columns: ['kept', 'tail_mass'], batchSize: Math.max(1, part.tokens) }), part.file);
    } catch (cause) {
      if (cause instanceof CodecError) throw cause;
      throw new CodecError('E_PART_FORMAT', `${part.file} could not be decoded as Parquet: ${String(cause)}`, { cause });
    }
    const kept = columns.get('kept');
    const tail = columns.get('tail_mass');
    if (!kept || !tail || kept.format !== 'S' || tail.format !== 'S') {
      throw new CodecError('E_PART_FORMAT', `${part.file}: uint16 columns kept and tail_mass are required`);
    }
    const counts = new Uint16Array(kept.values.buffer, kept.values.byteOffset, kept.length);
    const tails = new Uint16Array(tail.values.buffer, tail.values.byteOffset, tail.length);
    for (let i = 0; i < counts.length; i++) {
      if (kept.present !== null && kept.present[i] === 0) continue;
      keptSum += counts[i];
      tailSum += dequantizeTailMass(tails[i]);
      rows++;
    }
  }
  const { documents, tokens, bytes } = manifest.totals;
  return {
    documents,
    tokens,
    rows,
    bytes,
    bytesPerToken: tokens > 0 ? bytes / tokens : 0,
    meanKept: rows > 0 ? keptSum / rows : 0,
    meanTailMass: rows > 0 ? tailSum / rows : 0,
    parts: manifest.parts.length,
  };
}
