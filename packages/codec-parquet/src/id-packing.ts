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

/** Bytes {@link unpackIds} may read past a row's end: buffers handed to it carry this padding. */
export const unpackPadding = 8;

/**
 * Decodes `count` ids of one row from `bytes[byteStart … byteEnd)` into `out[outOffset…]`.
 * `bytes` must extend at least {@link unpackPadding} bytes past `byteEnd` (any content): the
 * loop refills its bit window without bounds checks and detects overrunning the row once at
 * the end. Throws E_PART_FORMAT on a row that runs out of bits or names a rank outside the
 * ranking (a damaged part).
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
  // `window` holds the next `available` bits left-aligned in 32 bits.
  let window = (bytes[byteStart] << 24) | (bytes[byteStart + 1] << 16) | (bytes[byteStart + 2] << 8) | bytes[byteStart + 3];
  let available = 32;
  let next = byteStart + 4;
  const b = window >>> 27;
  window <<= 5;
  available -= 5;
  const lowShift = 32 - b;
  const scale = 2 ** b;
  const distinct = rankedIds.length;
  for (let i = 0; i < count; i++) {
    if (available <= 16) {
      window |= ((bytes[next] << 8) | bytes[next + 1]) << (16 - available);
      next += 2;
      available += 16;
    }
    let quotient = Math.clz32(~window);
    if (quotient < available) {
      window = quotient === 31 ? 0 : window << (quotient + 1);
      available -= quotient + 1;
    } else {
      // A unary run longer than the window (a rank far above the row's Rice parameter): rare.
      quotient = longUnary(bytes, byteEnd, next, available);
      const pastWindow = quotient + 1 - available;
      next += (pastWindow - 1) >>> 3;
      const bitsInByte = pastWindow - (((pastWindow - 1) >>> 3) << 3);
      window = ((bytes[next] << 24) | (bytes[next + 1] << 16) | (bytes[next + 2] << 8) | bytes[next + 3]) << bitsInByte;
      available = 32 - bitsInByte;
      next += 4;
    }
    let rank = quotient * scale;
    if (b > 0) {
      while (available < b) {
        window |= ((bytes[next] << 8) | bytes[next + 1]) << (16 - available);
        next += 2;
        available += 16;
      }
      rank += window >>> lowShift;
      window <<= b;
      available -= b;
    }
    if (rank >= distinct) {
      throw new CodecError('E_PART_FORMAT', `packed id rank ${rank} is outside the part's id ranking (${distinct} ids)`);
    }
    out[outOffset + i] = rankedIds[rank];
  }
  if ((next - byteStart) * 8 - available > (byteEnd - byteStart) * 8) {
    throw new CodecError('E_PART_FORMAT', `packed ids end early: expected ${count} ids in ${byteEnd - byteStart} bytes`);
  }
}

/**
 * The length of a unary run that does not fit the window: `available` one-bits already seen,
 * continuing at byte `next`. Rare (a rank far above the row's Rice parameter), so kept simple.
 */
function longUnary(bytes: Uint8Array, byteEnd: number, next: number, available: number): number {
  let ones = available;
  for (let at = next; at < byteEnd; at++) {
    const byte = bytes[at];
    if (byte === 0xff) {
      ones += 8;
      continue;
    }
    return ones + Math.clz32(~(byte << 24));
  }
  throw new CodecError('E_PART_FORMAT', 'packed ids end inside a unary code');
}
