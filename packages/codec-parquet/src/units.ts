// Third encoding: data units. The unit of a token is the exact text its span covers; each
// distinct unit gets a hash code and is stored once per part in a code → text table, and every
// position stores only codes. The split is lossless for any spans: characters no token covers
// become a "gap unit" before the next token, spans that reach back over text already covered
// (byte-fallback tokens of one emoji, overlapping pieces) record how far they reach back, and
// empty spans (BOS, EOS) are empty units.
import { CodecError } from './errors.js';

/** Marks "no gap before this token" in a gap-unit array; never given to a unit as its code. */
export const noUnit = 0xffffffff;

export interface UnitHashOptions {
  /** Width of the codes in bits, 1 … 32 (default 32). Narrow widths exist to test collision handling. */
  bits?: number;
  /** Seed of the FNV-1a hash (default 0). */
  seed?: number;
}

/** FNV-1a over the UTF-16 code units of `text`, seeded, folded to `bits` bits. */
export function hashUnit(text: string, seed = 0, bits = 32): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    hash = Math.imul(hash ^ (unit & 0xff), 0x01000193);
    hash = Math.imul(hash ^ (unit >>> 8), 0x01000193);
  }
  hash >>>= 0;
  return bits >= 32 ? hash : (hash ^ (hash >>> bits)) & ((1 << bits) - 1);
}

/**
 * Assigns codes to unit texts for one part. A code already taken by another text is a hash
 * collision: it is counted and resolved by probing to the next free code, so codes stay
 * unique and the stored table restores every text exactly.
 */
export class UnitTable {
  readonly bits: number;
  readonly seed: number;
  /** How many units landed on a code another unit already held. */
  collisions = 0;
  private readonly codeByText = new Map<string, number>();
  private readonly textByCode = new Map<number, string>();
  private readonly capacity: number;

  constructor(options: UnitHashOptions = {}) {
    this.bits = options.bits ?? 32;
    this.seed = options.seed ?? 0;
    if (!Number.isInteger(this.bits) || this.bits < 1 || this.bits > 32) {
      throw new CodecError('E_INPUT', `unit hash width must be an integer from 1 to 32 bits; got ${this.bits}`);
    }
    // 0xffffffff is reserved for "no gap unit" in 32-bit tables.
    this.capacity = this.bits === 32 ? 0xffffffff : 2 ** this.bits;
  }

  get size(): number {
    return this.codeByText.size;
  }

  codeOf(text: string): number {
    const known = this.codeByText.get(text);
    if (known !== undefined) return known;
    if (this.codeByText.size >= this.capacity) {
      throw new CodecError(
        'E_HASH_COLLISION',
        `unit table is full: ${this.capacity} codes of ${this.bits} bits are all taken; use a wider unit hash or fewer rows per part`,
      );
    }
    let code = hashUnit(text, this.seed, this.bits);
    if (this.textByCode.has(code) || code === noUnit) {
      this.collisions++;
      do {
        code = (code + 1) % this.capacity;
      } while (this.textByCode.has(code));
    }
    this.codeByText.set(text, code);
    this.textByCode.set(code, text);
    return code;
  }

  /** The table as stored in a part: parallel arrays, codes in first-seen order. */
  entries(): { codes: number[]; texts: string[] } {
    return { codes: [...this.textByCode.keys()], texts: [...this.textByCode.values()] };
  }
}

/** Builds the reverse lookup a reader needs, refusing a table whose codes repeat. */
export function unitLookup(codes: readonly number[], texts: readonly string[]): Map<number, string> {
  if (codes.length !== texts.length) {
    throw new CodecError('E_PART_FORMAT', `unit table has ${codes.length} codes but ${texts.length} texts`);
  }
  const lookup = new Map<number, string>();
  for (let i = 0; i < codes.length; i++) {
    if (lookup.has(codes[i])) throw new CodecError('E_PART_FORMAT', `unit table repeats code ${codes[i]}`);
    lookup.set(codes[i], texts[i]);
  }
  return lookup;
}

/** Per-position unit codes of one document, plus the text after the last token. */
export interface DocumentUnits {
  units: Uint32Array;
  /** Code of the characters between the covered text and this token's start, or {@link noUnit}. */
  gapUnits: Uint32Array;
  /** How many UTF-16 code units this token's span starts before the end of the text covered so far. */
  overlaps: Uint32Array;
  /** Code of the characters after the last covered one, or null when the spans reach the end. */
  trailingUnit: number | null;
}

/** Splits `text` into per-token units; throws E_INPUT when a span lies outside the text. */
export function splitUnits(text: string, offsets: Uint32Array, tokens: number, table: UnitTable): DocumentUnits {
  const units = new Uint32Array(tokens);
  const gapUnits = new Uint32Array(tokens).fill(noUnit);
  const overlaps = new Uint32Array(tokens);
  let covered = 0;
  for (let t = 0; t < tokens; t++) {
    const start = offsets[2 * t];
    const end = offsets[2 * t + 1];
    if (!(start <= end && end <= text.length)) {
      throw new CodecError(
        'E_INPUT',
        `token ${t} has span [${start}, ${end}); expected start ≤ end ≤ ${text.length} (the text length in UTF-16 code units)`,
      );
    }
    if (start > covered) gapUnits[t] = table.codeOf(text.slice(covered, start));
    else overlaps[t] = covered - start;
    units[t] = table.codeOf(text.slice(start, end));
    if (end > covered) covered = end;
  }
  const trailingUnit = covered < text.length ? table.codeOf(text.slice(covered)) : null;
  return { units, gapUnits, overlaps, trailingUnit };
}

/**
 * Rebuilds the text and token spans of one document from its unit codes (the inverse of
 * {@link splitUnits}). Arrays are read from `first` for `tokens` positions.
 */
export function joinUnits(
  lookup: Map<number, string>,
  units: Uint32Array,
  gapUnits: Uint32Array,
  overlaps: Uint32Array,
  first: number,
  tokens: number,
  trailingUnit: number | null,
): { text: string; offsets: Uint32Array } {
  const offsets = new Uint32Array(2 * tokens);
  const pieces: string[] = [];
  let covered = 0;
  const textOf = (code: number): string => {
    const text = lookup.get(code);
    if (text === undefined) throw new CodecError('E_PART_FORMAT', `unit code ${code} is not in the part's unit table`);
    return text;
  };
  for (let t = 0; t < tokens; t++) {
    const gap = gapUnits[first + t];
    if (gap !== noUnit) {
      const gapText = textOf(gap);
      pieces.push(gapText);
      covered += gapText.length;
    }
    const piece = textOf(units[first + t]);
    const start = covered - overlaps[first + t];
    const end = start + piece.length;
    if (end > covered) {
      pieces.push(start === covered ? piece : piece.slice(covered - start));
      covered = end;
    }
    offsets[2 * t] = start;
    offsets[2 * t + 1] = end;
  }
  if (trailingUnit !== null) pieces.push(textOf(trailingUnit));
  return { text: pieces.join(''), offsets };
}
