// First encoding: probabilities quantized to one or two bytes each. Rows arrive in descending
// probability order, so log-domain codes never decrease along a row; they are stored as the
// first code followed by differences, which are small and repeat, and ZSTD packs them tighter
// than the codes themselves (see docs/encodings.md for the measurements behind the default).
import { CodecError } from './errors.js';

export type QuantizationScheme = 'u8-log' | 'u16-log' | 'u16-linear';

export const quantizationSchemes: readonly QuantizationScheme[] = ['u8-log', 'u16-log', 'u16-linear'];

/** Chosen by measurement: KL impact ~1e-4 nats at half the bytes of the 16-bit schemes. */
export const defaultQuantization: QuantizationScheme = 'u8-log';

interface LogScheme {
  kind: 'log';
  bytes: 1 | 2;
  maxCode: number;
  /** log2 units per code step: the range 1 … 2^-(maxCode·step) is covered. */
  step: number;
}
interface LinearScheme {
  kind: 'linear';
  bytes: 2;
  maxCode: number;
}

// u8-log covers 1 down to 2^-20 (≈1e-6); smaller probabilities carry no weight a loss can
// feel and are clamped to the floor. u16-log covers 1 down to 2^-32.
const schemes: Record<QuantizationScheme, LogScheme | LinearScheme> = {
  'u8-log': { kind: 'log', bytes: 1, maxCode: 255, step: 20 / 255 },
  'u16-log': { kind: 'log', bytes: 2, maxCode: 65535, step: 32 / 65535 },
  'u16-linear': { kind: 'linear', bytes: 2, maxCode: 65535 },
};

/** Bytes one probability takes in the `probs` column. */
export function bytesPerProbability(scheme: QuantizationScheme): number {
  return schemes[scheme].bytes;
}

/**
 * The worst-case absolute error of a decoded probability p under `scheme` (used by tests and
 * documented in the README): relative for log schemes above their floor, absolute below it.
 */
export function quantizationErrorBound(scheme: QuantizationScheme, p: number): number {
  const definition = schemes[scheme];
  if (definition.kind === 'linear') return 0.5 / definition.maxCode + 1e-7;
  const floor = 2 ** -(definition.maxCode * definition.step);
  const relative = 2 ** (definition.step / 2) - 1;
  return Math.max(p * relative, floor) + p * 1e-6;
}

const decodeTables = new Map<QuantizationScheme, Float32Array>();

/** code → probability, computed once per log scheme so decoding is a table lookup. */
function decodeTable(scheme: QuantizationScheme): Float32Array {
  let table = decodeTables.get(scheme);
  if (table) return table;
  const definition = schemes[scheme];
  table = new Float32Array(definition.maxCode + 1);
  for (let code = 0; code <= definition.maxCode; code++) {
    table[code] = definition.kind === 'log' ? 2 ** -(code * definition.step) : code / definition.maxCode;
  }
  decodeTables.set(scheme, table);
  return table;
}

function codeOf(definition: LogScheme | LinearScheme, p: number): number {
  if (definition.kind === 'linear') return Math.round(p * definition.maxCode);
  if (p <= 0) return definition.maxCode;
  const code = Math.round(-Math.log2(p) / definition.step);
  return code > definition.maxCode ? definition.maxCode : code;
}

/**
 * Writes `count` probabilities from `probs[start…]` into `out` at `outOffset` and returns the
 * number of bytes written. Throws when a probability is outside [0, 1] or the row is not in
 * descending order (the id order of a row is its probability order, so it must be).
 */
export function quantizeProbabilities(
  scheme: QuantizationScheme,
  probs: ArrayLike<number>,
  start: number,
  count: number,
  out: Uint8Array,
  outOffset: number,
): number {
  const definition = schemes[scheme];
  let previousProbability = 1;
  let previousCode = 0;
  for (let i = 0; i < count; i++) {
    const p = probs[start + i];
    if (!(p >= 0 && p <= 1)) {
      throw new CodecError('E_INPUT', `probability ${i} of a row is ${p}; expected a number in [0, 1]`);
    }
    if (p > previousProbability) {
      throw new CodecError(
        'E_INPUT',
        `probabilities of a row must be in descending order; found ${previousProbability} followed by ${p} at entry ${i}`,
      );
    }
    previousProbability = p;
    const code = codeOf(definition, p);
    // Log codes grow as probabilities fall: store the difference to the previous code.
    // Linear codes shrink: store the drop from the previous code. Either way non-negative.
    const stored = i === 0 ? code : definition.kind === 'log' ? code - previousCode : previousCode - code;
    previousCode = code;
    if (definition.bytes === 1) {
      out[outOffset + i] = stored;
    } else {
      out[outOffset + 2 * i] = stored & 0xff;
      out[outOffset + 2 * i + 1] = stored >>> 8;
    }
  }
  return count * definition.bytes;
}

/** Decodes `count` probabilities written by {@link quantizeProbabilities} into `out[outOffset…]`. */
export function dequantizeProbabilities(
  scheme: QuantizationScheme,
  bytes: Uint8Array,
  byteOffset: number,
  count: number,
  out: Float32Array,
  outOffset: number,
): void {
  const definition = schemes[scheme];
  decodeCodes(decodeTable(scheme), definition.bytes, definition.kind === 'log' ? 1 : -1, bytes, byteOffset, count, out, outOffset);
}

/**
 * The delta decoding shared by one row and many: `width` bytes per stored difference, `sign`
 * +1 where codes grow along the row (log schemes) and −1 where they shrink (linear).
 */
function decodeCodes(table: Float32Array, width: number, sign: number, bytes: Uint8Array, byteOffset: number, count: number, out: Float32Array, outOffset: number): void {
  let code = 0;
  if (width === 1) {
    for (let i = 0; i < count; i++) {
      code += bytes[byteOffset + i];
      out[outOffset + i] = table[code & 0xff];
    }
    return;
  }
  for (let i = 0; i < count; i++) {
    const stored = bytes[byteOffset + 2 * i] | (bytes[byteOffset + 2 * i + 1] << 8);
    code = i === 0 ? stored : code + sign * stored;
    out[outOffset + i] = table[code & 0xffff];
  }
}

/**
 * Decodes the probabilities of rows `firstRow … firstRow+rowCount)` of a `probs` column (`offsets`
 * its row byte offsets, `kept` its per-row counts) into `out`, rows back to back. Returns the
 * first row whose byte length disagrees with its count (nothing of it is decoded), or -1.
 * The scheme is resolved once per call instead of once per row: this runs for every row read.
 */
export function dequantizeRows(
  scheme: QuantizationScheme,
  bytes: Uint8Array,
  offsets: Int32Array,
  kept: Uint16Array,
  firstRow: number,
  rowCount: number,
  out: Float32Array,
): number {
  const definition = schemes[scheme];
  const table = decodeTable(scheme);
  const width = definition.bytes;
  const sign = definition.kind === 'log' ? 1 : -1;
  let cursor = 0;
  for (let row = firstRow; row < firstRow + rowCount; row++) {
    const count = kept[row];
    const start = offsets[row];
    if (offsets[row + 1] - start !== count * width) return row;
    decodeCodes(table, width, sign, bytes, start, count, out, cursor);
    cursor += count;
  }
  return -1;
}

/** Tail mass is stored linearly in 16 bits: absolute error ≤ 1/131070. */
export function quantizeTailMass(tailMass: number): number {
  if (!(tailMass >= -1e-4 && tailMass <= 1 + 1e-4)) {
    throw new CodecError('E_INPUT', `tail mass is ${tailMass}; expected a number in [0, 1] (1 − the sum of the kept probabilities)`);
  }
  const code = Math.round(tailMass * 65535);
  return code < 0 ? 0 : code > 65535 ? 65535 : code;
}

export function dequantizeTailMass(code: number): number {
  return code / 65535;
}
