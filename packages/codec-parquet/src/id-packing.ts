// Second encoding: teacher ids packed per row. Ids of a part are first replaced by their rank in
// the part's id frequency order (the ranking is stored once per part), so the ids a teacher
// keeps most often become the smallest numbers; each row then codes its ranks, in probability
// order, with a Rice code whose parameter is chosen per row. On real teacher rows this takes
// about 11.3 bits per id against 15 for fixed-width ids of a 32k vocabulary (docs/encodings.md);
// sorting ids and coding gaps plus the permutation measured worse than fixed width.
//
// Row layout (bits, most significant first, zero-padded to a whole byte):
//   5 bits: Rice parameter b
//   per id: q = rank >>> b as q one-bits and a zero-bit, then the low b bits of rank
import { CodecError } from './errors.js';

/**
 * The part's ids ordered by how often they occur (most frequent first, ties by id), and the
 * inverse map id → rank (a dense array: vocabularies are at most a few hundred thousand ids).
 */
export interface IdRanking {
  rankedIds: Uint32Array;
  rankOf: Uint32Array;
}

export function rankIds(ids: Uint32Array, vocabSize: number): IdRanking {
  const counts = new Uint32Array(vocabSize);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id >= vocabSize) {
      throw new CodecError('E_INPUT', `teacher id ${id} is outside the vocabulary (size ${vocabSize}); check the manifest header's vocabSize`);
    }
    counts[id]++;
  }
  let distinct = 0;
  for (let id = 0; id < vocabSize; id++) if (counts[id] > 0) distinct++;
  const rankedIds = new Uint32Array(distinct);
  let next = 0;
  for (let id = 0; id < vocabSize; id++) if (counts[id] > 0) rankedIds[next++] = id;
  rankedIds.sort((a, b) => counts[b] - counts[a] || a - b);
  const rankOf = new Uint32Array(vocabSize);
  for (let rank = 0; rank < distinct; rank++) rankOf[rankedIds[rank]] = rank;
  return { rankedIds, rankOf };
}

/** Growable byte sink with a bit cursor, reused across rows of a part. */
export class BitSink {
  bytes: Uint8Array;
  /** Bytes completed so far. */
  length = 0;
  private accumulator = 0;
  private pendingBits = 0;

  constructor(initialBytes = 1 << 16) {
    this.bytes = new Uint8Array(initialBytes);
  }

  /** Appends the low `width` bits of `value` (width ≤ 24). */
  write(value: number, width: number): void {
    if (width === 0) return;
    this.accumulator = (this.accumulator << width) | (value & ((1 << width) - 1));
    this.pendingBits += width;
    while (this.pendingBits >= 8) {
      this.pendingBits -= 8;
      this.push((this.accumulator >>> this.pendingBits) & 0xff);
    }
    this.accumulator &= (1 << this.pendingBits) - 1;
  }

  writeOnes(count: number): void {
    while (count >= 16) {
      this.write(0xffff, 16);
      count -= 16;
    }
    this.write((1 << count) - 1, count);
  }

  /** Pads the current byte with zero bits so the next row starts on a byte boundary. */
  alignToByte(): void {
    if (this.pendingBits > 0) this.write(0, 8 - this.pendingBits);
  }

  private push(byte: number): void {
    if (this.length === this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes[this.length++] = byte;
  }
}

const maxRiceParameter = 24;

/** The Rice parameter with the fewest bits for these ranks, searched near log2 of their mean. */
function chooseRiceParameter(ranks: Uint32Array, count: number): number {
  let sum = 0;
  for (let i = 0; i < count; i++) sum += ranks[i];
  const mean = sum / count;
  const estimate = mean < 1 ? 0 : Math.floor(Math.log2(mean));
  let best = 0;
  let bestBits = Infinity;
  for (let b = Math.max(0, estimate - 2); b <= Math.min(maxRiceParameter, estimate + 2); b++) {
    let bits = count * (b + 1);
    for (let i = 0; i < count; i++) bits += ranks[i] >>> b;
    if (bits < bestBits) {
      bestBits = bits;
      best = b;
    }
  }
  return best;
}

/**
 * Appends one row's ids (`ids[start … start+count)`, probability order) to `sink` as ranks and
 * aligns to the next byte. `scratch` must hold at least `count` entries.
 */
export function packIds(ids: ArrayLike<number>, start: number, count: number, ranking: IdRanking, sink: BitSink, scratch: Uint32Array): void {
  if (count === 0) return;
  const { rankOf } = ranking;
  for (let i = 0; i < count; i++) scratch[i] = rankOf[ids[start + i]];
  const b = chooseRiceParameter(scratch, count);
  sink.write(b, 5);
  const lowMask = b === 0 ? 0 : (1 << b) - 1;
  for (let i = 0; i < count; i++) {
    const rank = scratch[i];
    sink.writeOnes(rank >>> b);
    sink.write(0, 1);
    sink.write(rank & lowMask, b);
  }
  sink.alignToByte();
}

/** Bytes the unpackers may read past a row's end: buffers handed to them carry this padding. */
export const unpackPadding = 8;

/**
 * Decodes `count` ids of one row from `bytes[byteStart … byteEnd)` into `out[outOffset…]`.
 * `bytes` must extend at least {@link unpackPadding} bytes past `byteEnd` (any content).
 * Throws E_PART_FORMAT on a row that runs out of bits, has a Rice parameter the writer never
 * uses, or names a rank outside the ranking (a damaged part).
 */
export function unpackIds(
  bytes: Uint8Array,
  byteStart: number,
  byteEnd: number,
  count: number,
  rankedIds: Uint32Array,
  out: Uint32Array,
  outOffset: number,
): void {
  if (count === 0) return;
  unpackRow(viewOf(bytes), byteStart, byteEnd, count, rankedIds, out, outOffset);
}

/**
 * Decodes the ids of rows `firstRow … firstRow+rowCount)` of a packed column (`offsets` are its
 * row byte offsets, `kept` its per-row id counts) into `out[outOffset…]`, rows back to back.
 * The same contract as {@link unpackIds}; one call per document keeps the hot loop in one place.
 */
export function unpackIdRows(
  bytes: Uint8Array,
  offsets: Int32Array,
  kept: Uint16Array,
  firstRow: number,
  rowCount: number,
  rankedIds: Uint32Array,
  out: Uint32Array,
  outOffset: number,
): void {
  const view = viewOf(bytes);
  let cursor = outOffset;
  for (let row = firstRow; row < firstRow + rowCount; row++) {
    const count = kept[row];
    if (count === 0) continue;
    unpackRow(view, offsets[row], offsets[row + 1], count, rankedIds, out, cursor);
    cursor += count;
  }
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Bits a window read at any bit position is sure to hold: a big-endian 32-bit load at the
 * position's byte, shifted left by at most 7 bits.
 */
const windowBits = 25;

/**
 * One row: each id is read from a 32-bit window loaded at its own bit position, so there is no
 * bit buffer to refill; the unary part is counted with one clz32 and the low bits come from the
 * same window whenever q + 1 + b fits in it (every id of a row whose ranks stay near 2^b).
 */
function unpackRow(view: DataView, byteStart: number, byteEnd: number, count: number, rankedIds: Uint32Array, out: Uint32Array, outOffset: number): void {
  const endBit = byteEnd * 8;
  const b = view.getUint8(byteStart) >>> 3;
  if (b > maxRiceParameter) {
    throw new CodecError('E_PART_FORMAT', `packed ids use Rice parameter ${b}; the writer uses at most ${maxRiceParameter}`);
  }
  const lowMask = (1 << b) - 1;
  const distinct = rankedIds.length;
  let position = byteStart * 8 + 5;
  for (let i = 0; i < count; i++) {
    // Checked per id so that a damaged row never makes the loads leave the padded buffer.
    if (position >= endBit) {
      throw new CodecError('E_PART_FORMAT', `packed ids end early: expected ${count} ids in ${byteEnd - byteStart} bytes`);
    }
    const window = view.getUint32(position >>> 3) << (position & 7);
    const quotient = Math.clz32(~window);
    const used = quotient + 1 + b;
    let rank: number;
    if (used <= windowBits) {
      rank = (quotient << b) | ((window >>> (32 - used)) & lowMask);
      position += used;
    } else {
      rank = longRice(view, position, b, endBit);
      position = longRicePosition;
    }
    if (rank >= distinct) {
      throw new CodecError('E_PART_FORMAT', `packed id rank ${rank} is outside the part's id ranking (${distinct} ids)`);
    }
    out[outOffset + i] = rankedIds[rank];
  }
  if (position > endBit) {
    throw new CodecError('E_PART_FORMAT', `packed ids end early: expected ${count} ids in ${byteEnd - byteStart} bytes`);
  }
}

/** Where {@link longRice} stopped: a second return value without allocating a pair. */
let longRicePosition = 0;

/**
 * A code longer than one window (a rank far above the row's Rice parameter): rare, so the unary
 * run is counted a window at a time. Returns the rank and leaves the next bit position in
 * {@link longRicePosition}.
 */
function longRice(view: DataView, position: number, b: number, endBit: number): number {
  let quotient = 0;
  for (;;) {
    if (position >= endBit) throw new CodecError('E_PART_FORMAT', 'packed ids end inside a unary code');
    const ones = Math.clz32(~(view.getUint32(position >>> 3) << (position & 7)));
    if (ones < windowBits) {
      quotient += ones;
      position += ones + 1;
      break;
    }
    quotient += windowBits;
    position += windowBits;
  }
  let low = 0;
  if (b > 0) {
    low = (view.getUint32(position >>> 3) << (position & 7)) >>> (32 - b);
    position += b;
  }
  longRicePosition = position;
  return quotient * 2 ** b + low;
}
