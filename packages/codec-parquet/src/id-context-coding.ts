// Second encoding, format version 2 ("context-huffman"): each kept id is coded against a
// reference row the decoder has already decoded, the ids of the latest earlier row in the part
// whose input token is the same (a teacher's candidates after "▁the" repeat), else of the
// previous row. An id found among the first 64 reference ids is coded as its index there;
// any other id escapes to its rank in the part's ranking of escaped ids, as an Elias-gamma-like
// bucket plus raw bits. Symbols take a canonical Huffman code built per part (code lengths in
// `kd.format`). On dev.jsonl rows of teacher-llama-13m (adaptive p = 0.95) this measured about
// 11.0 bits per id against 11.7 for rank-rice; see the README for the exact layout.
import { CodecError } from './errors.js';
import { BitSink } from './id-packing.js';
import { maxRankedIds } from './id-ranking-table.js';

/** Reference indices 0 … 63 are symbols 0 … 63. */
export const referenceSymbols = 64;
/** Escape buckets b = 0 … 24 are symbols 64 … 88 (b raw bits follow). */
export const escapeBuckets = 25;
export const alphabetSize = referenceSymbols + escapeBuckets;
export const maxCodeLength = 15;

/** Code lengths of the plain Huffman code of `weights` (0 for unused symbols). */
function huffmanLengths(weights: number[]): number[] {
  const lengths = weights.map(() => 0);
  const nodes: { weight: number; symbols: number[] }[] = [];
  weights.forEach((weight, symbol) => {
    if (weight > 0) nodes.push({ weight, symbols: [symbol] });
  });
  if (nodes.length === 1) lengths[nodes[0].symbols[0]] = 1;
  while (nodes.length > 1) {
    nodes.sort((a, b) => a.weight - b.weight || a.symbols[0] - b.symbols[0]);
    const [a, b] = nodes.splice(0, 2);
    for (const symbol of a.symbols) lengths[symbol]++;
    for (const symbol of b.symbols) lengths[symbol]++;
    nodes.push({ weight: a.weight + b.weight, symbols: [...a.symbols, ...b.symbols] });
  }
  return lengths;
}

/** Huffman code lengths no longer than {@link maxCodeLength}: weights are flattened until they fit. */
export function limitedCodeLengths(counts: ArrayLike<number>): number[] {
  let weights = Array.from(counts);
  for (;;) {
    const lengths = huffmanLengths(weights);
    if (Math.max(0, ...lengths) <= maxCodeLength) return lengths;
    weights = weights.map((weight) => (weight === 0 ? 0 : Math.floor(weight / 2) | 1));
  }
}

/** Canonical codes (DEFLATE's assignment) for `lengths`; checks the lengths form a prefix code. */
export function canonicalCodes(lengths: ArrayLike<number>, file: string): Uint32Array {
  const perLength = new Uint32Array(maxCodeLength + 1);
  for (let symbol = 0; symbol < lengths.length; symbol++) {
    const length = lengths[symbol];
    if (!Number.isInteger(length) || length < 0 || length > maxCodeLength) {
      throw new CodecError('E_PART_FORMAT', `${file}: id code length ${length} of symbol ${symbol}; expected 0 … ${maxCodeLength}`);
    }
    if (length > 0) perLength[length]++;
  }
  let kraft = 0;
  for (let length = 1; length <= maxCodeLength; length++) kraft += perLength[length] * 2 ** (maxCodeLength - length);
  if (kraft > 2 ** maxCodeLength) throw new CodecError('E_PART_FORMAT', `${file}: id code lengths are not a prefix code (Kraft sum above 1)`);
  const next = new Uint32Array(maxCodeLength + 2);
  let code = 0;
  for (let length = 1; length <= maxCodeLength; length++) {
    code = (code + perLength[length - 1]) << 1;
    next[length] = code;
  }
  const codes = new Uint32Array(lengths.length);
  for (let symbol = 0; symbol < lengths.length; symbol++) if (lengths[symbol] > 0) codes[symbol] = next[lengths[symbol]]++;
  return codes;
}

export interface EncodedPartIds {
  /** positions + 1 byte offsets of each position's `ids` value into `data`. */
  offsets: Int32Array;
  data: Uint8Array;
  codeLengths: number[];
  /** Escaped ids, most often escaped first, ties by id. */
  rankedIds: Uint32Array;
}

/**
 * Codes the ids of a part. `ids` holds every kept id in position order; position t keeps
 * `kept[t]` of them (0 for a position without a row) and has input token `tokenId[t]`.
 */
export function encodePartIds(ids: Uint32Array, kept: Uint16Array, tokenId: Uint32Array, positions: number, vocabSize: number): EncodedPartIds {
  const latestStart = new Int32Array(vocabSize).fill(-1);
  const latestCount = new Int32Array(vocabSize);
  const slot = new Int32Array(vocabSize).fill(-1);
  const symbols = new Int8Array(ids.length);
  const escapes = new Uint32Array(vocabSize);
  let previousStart = 0;
  let previousCount = 0;
  let cursor = 0;
  for (let t = 0; t < positions; t++) {
    const count = kept[t];
    if (count === 0) continue;
    const token = tokenId[t];
    const hasSame = latestStart[token] >= 0;
    const referenceStart = hasSame ? latestStart[token] : previousStart;
    const referenceCount = Math.min(referenceSymbols, hasSame ? latestCount[token] : previousCount);
    for (let j = 0; j < referenceCount; j++) slot[ids[referenceStart + j]] = j;
    for (let i = 0; i < count; i++) {
      const id = ids[cursor + i];
      const at = slot[id];
      symbols[cursor + i] = at;
      if (at < 0) escapes[id]++;
    }
    for (let j = 0; j < referenceCount; j++) slot[ids[referenceStart + j]] = -1;
    latestStart[token] = cursor;
    latestCount[token] = count;
    previousStart = cursor;
    previousCount = count;
    cursor += count;
  }

  let distinct = 0;
  for (let id = 0; id < vocabSize; id++) if (escapes[id] > 0) distinct++;
  if (distinct > maxRankedIds) throw new CodecError('E_INPUT', `a part escapes ${distinct} distinct ids; at most ${maxRankedIds} fit the id code`);
  const rankedIds = new Uint32Array(distinct);
  for (let id = 0, next = 0; id < vocabSize; id++) if (escapes[id] > 0) rankedIds[next++] = id;
  rankedIds.sort((a, b) => escapes[b] - escapes[a] || a - b);
  const rankOf = slot; // free again (all −1): reused as id → rank
  for (let rank = 0; rank < distinct; rank++) rankOf[rankedIds[rank]] = rank;

  const counts = new Float64Array(alphabetSize);
  for (let i = 0; i < ids.length; i++) {
    const symbol = symbols[i];
    counts[symbol >= 0 ? symbol : referenceSymbols + 31 - Math.clz32(rankOf[ids[i]] + 1)]++;
  }
  const codeLengths = limitedCodeLengths(counts);
  const codes = canonicalCodes(codeLengths, 'part');

  const sink = new BitSink(Math.max(1024, ids.length * 2));
  const offsets = new Int32Array(positions + 1);
  cursor = 0;
  for (let t = 0; t < positions; t++) {
    const count = kept[t];
    for (let i = cursor; i < cursor + count; i++) {
      const symbol = symbols[i];
      if (symbol >= 0) {
        sink.write(codes[symbol], codeLengths[symbol]);
      } else {
        const value = rankOf[ids[i]] + 1;
        const bucket = 31 - Math.clz32(value);
        sink.write(codes[referenceSymbols + bucket], codeLengths[referenceSymbols + bucket]);
        sink.write(value - 2 ** bucket, bucket);
      }
    }
    sink.alignToByte();
    cursor += count;
    offsets[t + 1] = sink.length;
  }
  return { offsets, data: sink.bytes.subarray(0, sink.length), codeLengths, rankedIds };
}

/** A lookup table over the next `width` bits: symbol << 4 | code length, 0 where no code starts. */
export interface DecodeTable {
  width: number;
  entries: Uint16Array;
}

export function decodeTable(codeLengths: ArrayLike<number>, file: string): DecodeTable {
  if (codeLengths.length !== alphabetSize) {
    throw new CodecError('E_PART_FORMAT', `${file}: ${codeLengths.length} id code lengths; expected ${alphabetSize}`);
  }
  const codes = canonicalCodes(codeLengths, file);
  const width = Math.max(1, ...Array.from(codeLengths));
  const entries = new Uint16Array(1 << width);
  for (let symbol = 0; symbol < alphabetSize; symbol++) {
    const length = codeLengths[symbol];
    if (length === 0) continue;
    const first = codes[symbol] << (width - length);
    entries.fill((symbol << 4) | length, first, first + (1 << (width - length)));
  }
  return { width, entries };
}

/** Where one part's rows are: the stored columns the decoder walks. */
export interface CodedRows {
  data: Uint8Array;
  offsets: Int32Array;
  kept: Uint16Array;
  tokenId: Uint32Array;
}

/**
 * Decodes the ids of the rows of a part into `out` (entries back to back in position order).
 * `rowRanges` lists [firstPosition, rowCount] per document: positions with a sparse row.
 * `data` must extend {@link unpackPadding} bytes past its last value. Throws E_PART_FORMAT on
 * a damaged part (a code no symbol has, a reference index past the reference row, a rank past
 * the ranking, a row that runs out of bits or an input token outside the vocabulary).
 */
export function decodePartIds(rows: CodedRows, rowRanges: Int32Array, table: DecodeTable, rankedIds: Uint32Array, vocabSize: number, out: Uint32Array, file: string): void {
  const { data, offsets, kept, tokenId } = rows;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const latestStart = new Int32Array(vocabSize).fill(-1);
  const latestCount = new Int32Array(vocabSize);
  const entries = table.entries;
  const shift = 32 - table.width;
  let previousStart = 0;
  let previousCount = 0;
  let cursor = 0;
  for (let range = 0; range < rowRanges.length; range += 2) {
    const first = rowRanges[range];
    const last = first + rowRanges[range + 1];
    for (let t = first; t < last; t++) {
      const count = kept[t];
      if (count === 0) continue;
      const token = tokenId[t];
      if (token >= vocabSize) throw new CodecError('E_PART_FORMAT', `${file}: token id ${token} at row ${t} is outside the vocabulary (size ${vocabSize})`);
      const start = latestStart[token];
      const referenceStart = start >= 0 ? start : previousStart;
      const referenceCount = start >= 0 ? latestCount[token] : previousCount;
      const problem = decodeRow(view, offsets[t] * 8, offsets[t + 1] * 8, count, entries, shift, referenceStart, referenceCount, rankedIds, out, cursor);
      if (problem !== 0) throw rowError(problem, file, t, count, offsets[t + 1] - offsets[t], referenceCount, rankedIds.length);
      latestStart[token] = cursor;
      latestCount[token] = count;
      previousStart = cursor;
      previousCount = count;
      cursor += count;
    }
  }
}

/** Bits a window loaded at any bit position is sure to hold (a 32-bit load shifted by ≤ 7). */
const windowBits = 25;
const endsEarly = 1;
const noCode = 2;
const badReference = 3;
const badRank = 4;

function rowError(problem: number, file: string, row: number, count: number, bytes: number, referenceCount: number, distinct: number): CodecError {
  const what =
    problem === endsEarly
      ? `packed ids end early: expected ${count} ids in ${bytes} bytes`
      : problem === noCode
        ? 'packed ids hold a bit pattern that is no id code'
        : problem === badReference
          ? `a reference index is past the reference row (${referenceCount} ids)`
          : `an escape rank is past the part's ranking (${distinct} ids)`;
  return new CodecError('E_PART_FORMAT', `${file}: row ${row}: ${what}`);
}

/**
 * One row's ids into `out[cursor…]`; returns 0, or the kind of damage found. Kept apart from
 * the row walk (numbers and typed arrays only, no throw) so that the engine optimizes it as
 * one tight loop: one table lookup per id on a 32-bit window loaded at the id's bit position.
 */
function decodeRow(
  view: DataView,
  position: number,
  endBit: number,
  count: number,
  entries: Uint16Array,
  shift: number,
  referenceStart: number,
  referenceCount: number,
  rankedIds: Uint32Array,
  out: Uint32Array,
  cursor: number,
): number {
  const distinct = rankedIds.length;
  for (let i = 0; i < count; i++) {
    if (position >= endBit) return endsEarly;
    const window = view.getUint32(position >>> 3) << (position & 7);
    const entry = entries[window >>> shift];
    if (entry === 0) return noCode;
    const length = entry & 15;
    position += length;
    const symbol = entry >>> 4;
    if (symbol < referenceSymbols) {
      if (symbol >= referenceCount) return badReference;
      out[cursor + i] = out[referenceStart + symbol];
    } else {
      const bucket = symbol - referenceSymbols;
      let rank = (1 << bucket) - 1;
      if (bucket > 0) {
        // The raw bits come from the same window when code and bits fit its 25 sure bits.
        rank += (length + bucket <= windowBits ? window << length : view.getUint32(position >>> 3) << (position & 7)) >>> (32 - bucket);
        position += bucket;
      }
      if (rank >= distinct) return badRank;
      out[cursor + i] = rankedIds[rank];
    }
  }
  return position > endBit ? endsEarly : 0;
}
