// The per-part id ranking of format version 2 as a compact string: the ranking written as
// ascending runs of ids, each run gap-coded in unsigned LEB128 varints, the bytes in base64.
// Rankings are ordered by escape count with ties by id, so ids of equal count form ascending
// runs and most gaps fit in one byte; as a JSON array of decimal ids (format version 1) the
// table was about a tenth of a small part's bytes.
//
// Bytes: varint R (number of runs), then per run: varint n (ids in the run, ≥ 1), varint of the
// first id, then n − 1 varints of (id − previous id − 1). The ranking is the runs concatenated.
import { CodecError } from './errors.js';

/** The largest ranking a part may hold: escape codes reach ranks below 2^25 − 1. */
export const maxRankedIds = 2 ** 25 - 1;

function pushVarint(bytes: number[], value: number): void {
  while (value >= 0x80) {
    bytes.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  bytes.push(value);
}

export function encodeRankingTable(rankedIds: Uint32Array): string {
  const runStarts: number[] = [];
  for (let i = 0; i < rankedIds.length; i++) if (i === 0 || rankedIds[i] <= rankedIds[i - 1]) runStarts.push(i);
  const bytes: number[] = [];
  pushVarint(bytes, runStarts.length);
  for (let r = 0; r < runStarts.length; r++) {
    const start = runStarts[r];
    const end = r + 1 < runStarts.length ? runStarts[r + 1] : rankedIds.length;
    pushVarint(bytes, end - start);
    pushVarint(bytes, rankedIds[start]);
    for (let i = start + 1; i < end; i++) pushVarint(bytes, rankedIds[i] - rankedIds[i - 1] - 1);
  }
  return Buffer.from(bytes).toString('base64');
}

/** Decodes a ranking table; E_PART_FORMAT on anything the encoder cannot have written. */
export function decodeRankingTable(text: string, file: string): Uint32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) {
    throw new CodecError('E_PART_FORMAT', `${file}: metadata kd.id_ranking is not canonical base64`);
  }
  let at = 0;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 5; i++) {
      if (at >= bytes.length) throw new CodecError('E_PART_FORMAT', `${file}: metadata kd.id_ranking ends inside a number`);
      const byte = bytes[at++];
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
    throw new CodecError('E_PART_FORMAT', `${file}: metadata kd.id_ranking holds a number longer than 5 bytes`);
  };
  const runs = varint();
  const ids: number[] = [];
  for (let r = 0; r < runs; r++) {
    const length = varint();
    if (length === 0 || ids.length + length > maxRankedIds) {
      throw new CodecError('E_PART_FORMAT', `${file}: metadata kd.id_ranking run ${r} holds ${length} ids; expected 1 … ${maxRankedIds - ids.length}`);
    }
    let id = varint();
    ids.push(id);
    for (let i = 1; i < length; i++) {
      id += varint() + 1;
      ids.push(id);
    }
    if (id > 0xffffffff) throw new CodecError('E_PART_FORMAT', `${file}: metadata kd.id_ranking names id ${id}, beyond 32 bits`);
  }
  if (at !== bytes.length) throw new CodecError('E_PART_FORMAT', `${file}: metadata kd.id_ranking has ${bytes.length - at} bytes after its last run`);
  return Uint32Array.from(ids);
}
