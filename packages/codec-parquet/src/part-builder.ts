// Collects the documents of one part in growable typed arrays (no per-token objects) and turns
// them into the Parquet bytes of the part (format version 2): one row per token position, see
// part-schema.ts.
import type { LabelledDocument } from '@kd/compress';
import { CodecError } from './errors.js';
import { encodePartIds } from './id-context-coding.js';
import { type PartDocuments, type PartFormat, writePartParquet } from './part-schema.js';
import { bytesPerProbability, quantizeProbabilities, quantizeTailMass, type QuantizationScheme } from './quantization.js';
import { noUnit, splitUnits, UnitTable, type UnitHashOptions } from './units.js';

type GrowableArray = Uint8Array | Uint16Array | Uint32Array | Int32Array;

/** Returns `array` if it holds `needed` entries, else a copy at least twice as large. */
function ensure<T extends GrowableArray>(array: T, needed: number): T {
  if (needed <= array.length) return array;
  const grown = new (array.constructor as new (length: number) => T)(Math.max(needed, array.length * 2));
  grown.set(array);
  return grown;
}

export interface BuiltPart {
  bytes: Uint8Array;
  documentCount: number;
  firstDocument: number;
  lastDocument: number;
  tokens: number;
  rows: number;
  units: number;
  unitCollisions: number;
}

export class PartBuilder {
  /** Token positions buffered so far. */
  tokens = 0;
  rows = 0;
  private document = new Uint32Array(1024);
  private position = new Uint32Array(1024);
  private tokenId = new Uint32Array(1024);
  private unit = new Uint32Array(1024);
  private gapUnit = new Uint32Array(1024);
  private overlap = new Uint32Array(1024);
  private kept = new Uint16Array(1024);
  private tailMass = new Uint16Array(1024);
  private hasRow = new Uint8Array(1024);
  private probBytes = new Uint8Array(1 << 16);
  private probOffsets = new Int32Array(1025);
  private rawIds = new Uint32Array(1 << 14);
  private idCount = 0;
  private readonly documents: PartDocuments = { index: [], id: [], task: [], tokens: [], rows: [], trailingUnit: [] };
  private unitTable: UnitTable;

  constructor(
    private readonly quantization: QuantizationScheme,
    private readonly vocabSize: number,
    private readonly unitHash: Required<UnitHashOptions>,
    private readonly headerFingerprint: string,
  ) {
    this.unitTable = new UnitTable(unitHash);
  }

  get documentCount(): number {
    return this.documents.index.length;
  }

  /** Validates and buffers one document; throws E_INPUT (and buffers nothing) on a bad one. */
  add(document: LabelledDocument): void {
    const tokenCount = document.tokenIds.length;
    const { rows } = document;
    if (document.offsets.length !== 2 * tokenCount) {
      throw new CodecError('E_INPUT', `document ${document.index}: offsets has ${document.offsets.length} entries; expected 2 × ${tokenCount} tokens`);
    }
    if (rows.length > tokenCount) {
      throw new CodecError('E_INPUT', `document ${document.index}: ${rows.length} sparse rows for ${tokenCount} tokens; expected at most one row per token`);
    }
    if (rows.offsets.length < rows.length + 1 || rows.tailMass.length < rows.length) {
      throw new CodecError('E_INPUT', `document ${document.index}: sparse rows hold ${rows.length} rows but offsets/tailMass are shorter`);
    }
    for (let t = 0; t < tokenCount; t++) {
      if (document.tokenIds[t] >= this.vocabSize) {
        throw new CodecError('E_INPUT', `document ${document.index}: token id ${document.tokenIds[t]} at position ${t} is outside the vocabulary (size ${this.vocabSize})`);
      }
    }
    // A document rejected below leaves at most unused entries in the unit table: the position
    // arrays only count once `this.tokens` moves, and the id cursor is restored.
    const units = splitUnits(document.text, document.offsets, tokenCount, this.unitTable);

    const base = this.tokens;
    const end = base + tokenCount;
    this.growPositions(end);
    this.document.fill(document.index, base, end);
    for (let t = 0; t < tokenCount; t++) this.position[base + t] = t;
    this.tokenId.set(document.tokenIds, base);
    this.unit.set(units.units, base);
    this.gapUnit.set(units.gapUnits, base);
    this.overlap.set(units.overlaps, base);

    const probabilityBytes = bytesPerProbability(this.quantization);
    const entries = rows.offsets[rows.length] - rows.offsets[0];
    this.probBytes = ensure(this.probBytes, this.probOffsets[base] + entries * probabilityBytes);
    this.rawIds = ensure(this.rawIds, this.idCount + entries);
    const idCountBefore = this.idCount;
    try {
      this.addRows(document, base);
    } catch (error) {
      this.idCount = idCountBefore;
      throw error;
    }

    this.tokens = end;
    this.rows += rows.length;
    this.documents.index.push(document.index);
    this.documents.id.push(document.id);
    this.documents.task.push(document.task ?? null);
    this.documents.tokens.push(tokenCount);
    this.documents.rows.push(rows.length);
    this.documents.trailingUnit.push(units.trailingUnit);
  }

  /** Quantizes probabilities and tail masses and collects raw ids of the document's rows. */
  private addRows(document: LabelledDocument, base: number): void {
    const { rows } = document;
    let byteCursor = this.probOffsets[base];
    for (let t = 0; t < document.tokenIds.length; t++) {
      const at = base + t;
      if (t < rows.length) {
        const from = rows.offsets[t];
        const count = rows.offsets[t + 1] - from;
        if (count < 0 || count > 65535) {
          throw new CodecError('E_INPUT', `document ${document.index}: row ${t} keeps ${count} entries; expected 0 … 65535`);
        }
        for (let i = 0; i < count; i++) {
          if (rows.ids[from + i] >= this.vocabSize) {
            throw new CodecError('E_INPUT', `document ${document.index}: row ${t} keeps id ${rows.ids[from + i]}, outside the vocabulary (size ${this.vocabSize})`);
          }
        }
        byteCursor += quantizeProbabilities(this.quantization, rows.probs, from, count, this.probBytes, byteCursor);
        this.rawIds.set(rows.ids.subarray(from, from + count), this.idCount);
        this.idCount += count;
        this.kept[at] = count;
        this.tailMass[at] = quantizeTailMass(rows.tailMass[t]);
        this.hasRow[at] = 1;
      } else {
        this.kept[at] = 0;
        this.tailMass[at] = 0;
        this.hasRow[at] = 0;
      }
      this.probOffsets[at + 1] = byteCursor;
    }
  }

  private growPositions(needed: number): void {
    this.document = ensure(this.document, needed);
    this.position = ensure(this.position, needed);
    this.tokenId = ensure(this.tokenId, needed);
    this.unit = ensure(this.unit, needed);
    this.gapUnit = ensure(this.gapUnit, needed);
    this.overlap = ensure(this.overlap, needed);
    this.kept = ensure(this.kept, needed);
    this.tailMass = ensure(this.tailMass, needed);
    this.hasRow = ensure(this.hasRow, needed);
    this.probOffsets = ensure(this.probOffsets, needed + 1);
  }

  /** Codes the ids (the code is built from every id of the part) and encodes the part as Parquet. */
  build(): BuiltPart {
    const n = this.tokens;
    const rawIds = this.rawIds.subarray(0, this.idCount);
    const coded = encodePartIds(rawIds, this.kept, this.tokenId, n, this.vocabSize);
    const table = this.unitTable.entries();
    const format: PartFormat = {
      formatVersion: 2,
      header: this.headerFingerprint,
      quantization: this.quantization,
      idPacking: 'context-huffman',
      idCodeLengths: coded.codeLengths,
      unitHash: { name: 'fnv1a', bits: this.unitHash.bits, seed: this.unitHash.seed },
      tokens: n,
      rows: this.rows,
      units: this.unitTable.size,
      unitCollisions: this.unitTable.collisions,
    };
    const bytes = writePartParquet({
      length: n,
      document: this.document.subarray(0, n),
      position: this.position.subarray(0, n),
      tokenId: this.tokenId.subarray(0, n),
      unit: this.unit.subarray(0, n),
      gapUnit: this.gapUnit.subarray(0, n),
      overlap: this.overlap.subarray(0, n),
      kept: this.kept.subarray(0, n),
      tailMass: this.tailMass.subarray(0, n),
      hasRow: this.hasRow.subarray(0, n),
      probs: { offsets: this.probOffsets.subarray(0, n + 1), data: this.probBytes.subarray(0, this.probOffsets[n]) },
      ids: { offsets: coded.offsets, data: coded.data },
      format,
      documents: this.documents,
      units: table,
      rankedIds: coded.rankedIds,
    });
    const index = this.documents.index;
    return {
      bytes,
      documentCount: index.length,
      firstDocument: index[0],
      lastDocument: index[index.length - 1],
      tokens: n,
      rows: this.rows,
      units: this.unitTable.size,
      unitCollisions: this.unitTable.collisions,
    };
  }
}
