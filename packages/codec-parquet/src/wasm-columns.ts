// Columns of a table decoded by parquet-wasm, taken through the Arrow C Data Interface: each
// buffer is copied once straight out of WebAssembly memory. The IPC route (intoIPCStream, then
// apache-arrow's tableFromIPC) serializes every buffer in WebAssembly and copies it out again,
// which measured about twice the time of the Parquet decode itself for a part.
import * as parquet from 'parquet-wasm';
import { CodecError } from './errors.js';

/** One column as flat arrays, chunks already joined. */
export interface WasmColumn {
  /** Arrow C Data Interface format string: `I` uint32, `S` uint16, `z` binary. */
  format: string;
  length: number;
  /**
   * Values (fixed width) or the value bytes (binary). Binary values are followed by
   * {@link binaryTailRoom} spare zero bytes in the same buffer, for readers that load whole words.
   */
  values: Uint8Array;
  /** Binary only: length + 1 offsets into `values`. */
  valueOffsets?: Int32Array;
  /** One byte per row, 1 = present; null when the column has no nulls. */
  present: Uint8Array | null;
}

export const binaryTailRoom = 8;

/** Byte width of the fixed-width formats the part schema uses. */
const fixedWidths: Record<string, number> = { I: 4, S: 2 };

// struct ArrowSchema on wasm32: format, name, metadata (pointers), flags, n_children (int64),
// children, dictionary, release, private_data (pointers).
const schemaFormat = 0;
const schemaName = 4;
const schemaChildCount = 24;
const schemaChildren = 32;
// struct ArrowArray on wasm32: length, null_count, offset, n_buffers, n_children (int64),
// buffers, children, dictionary, release, private_data (pointers).
const arrayLength = 0;
const arrayNullCount = 8;
const arrayOffset = 16;
const arrayBufferCount = 24;
const arrayChildCount = 32;
const arrayBuffers = 40;
const arrayChildren = 44;

interface ChunkAddress {
  length: number;
  nullCount: number;
  offset: number;
  buffers: number[];
}

/**
 * Reads every top-level column of `table` (consumed and freed). Throws E_PART_FORMAT for a
 * column type the part schema never uses; `file` names the part in messages.
 */
export function takeColumns(table: parquet.Table, file: string): Map<string, WasmColumn> {
  const stream = table.intoFFI();
  try {
    const chunkAddresses: number[] = [];
    for (let chunk = 0; chunk < stream.numArrays(); chunk++) chunkAddresses.push(stream.arrayAddr(chunk));
    const schemaAddress = stream.schemaAddr();
    // Taken after the last call into WebAssembly: a memory growth would detach an earlier buffer.
    const memory = new DataView(parquet.wasmMemory().buffer);
    const bytes = new Uint8Array(memory.buffer);
    const int64 = (address: number) => Number(memory.getBigInt64(address, true));
    const pointer = (address: number) => memory.getUint32(address, true);
    const cString = (address: number) => {
      let end = address;
      while (bytes[end] !== 0) end++;
      return new TextDecoder().decode(bytes.subarray(address, end));
    };

    const fieldCount = int64(schemaAddress + schemaChildCount);
    const fieldsAt = pointer(schemaAddress + schemaChildren);
    const columns = new Map<string, WasmColumn>();
    for (let field = 0; field < fieldCount; field++) {
      const fieldSchema = pointer(fieldsAt + 4 * field);
      const name = cString(pointer(fieldSchema + schemaName));
      const format = cString(pointer(fieldSchema + schemaFormat));
      const chunks: ChunkAddress[] = [];
      for (const batch of chunkAddresses) {
        const parentOffset = int64(batch + arrayOffset);
        if (int64(batch + arrayChildCount) !== fieldCount) {
          throw new CodecError('E_PART_FORMAT', `${file}: a record batch has ${int64(batch + arrayChildCount)} columns; the schema lists ${fieldCount}`);
        }
        const child = pointer(pointer(batch + arrayChildren) + 4 * field);
        const bufferCount = int64(child + arrayBufferCount);
        const buffersAt = pointer(child + arrayBuffers);
        const buffers: number[] = [];
        for (let buffer = 0; buffer < bufferCount; buffer++) buffers.push(pointer(buffersAt + 4 * buffer));
        chunks.push({ length: int64(child + arrayLength), nullCount: int64(child + arrayNullCount), offset: int64(child + arrayOffset) + parentOffset, buffers });
      }
      columns.set(name, joinChunks(bytes, format, chunks, `${file}: column ${name}`));
    }
    return columns;
  } finally {
    stream.free();
  }
}

function joinChunks(memory: Uint8Array, format: string, chunks: ChunkAddress[], where: string): WasmColumn {
  let length = 0;
  let hasNulls = false;
  for (const chunk of chunks) {
    length += chunk.length;
    if (chunk.nullCount !== 0) hasNulls = true;
  }
  const present = hasNulls ? new Uint8Array(length) : null;
  let row = 0;
  for (const chunk of chunks) {
    if (present) copyValidity(memory, chunk, present, row);
    row += chunk.length;
  }

  const width = fixedWidths[format];
  if (width !== undefined) {
    const values = new Uint8Array(length * width);
    let at = 0;
    for (const chunk of chunks) {
      const start = chunk.buffers[1] + chunk.offset * width;
      values.set(memory.subarray(start, start + chunk.length * width), at);
      at += chunk.length * width;
    }
    return { format, length, values, present };
  }
  if (format === 'z') {
    let total = 0;
    const chunkOffsets = chunks.map((chunk) => {
      // A copy: the offsets buffer need not sit at a 4-byte aligned address in WebAssembly memory.
      const start = chunk.buffers[1] + 4 * chunk.offset;
      return new Int32Array(memory.slice(start, start + 4 * (chunk.length + 1)).buffer);
    });
    for (const offsets of chunkOffsets) total += offsets[offsets.length - 1] - offsets[0];
    const valueOffsets = new Int32Array(length + 1);
    const values = new Uint8Array(new ArrayBuffer(total + binaryTailRoom), 0, total);
    let rowAt = 0;
    let byteAt = 0;
    for (let c = 0; c < chunks.length; c++) {
      const chunk = chunks[c];
      const offsets = chunkOffsets[c];
      const first = offsets[0];
      const last = offsets[chunk.length];
      values.set(memory.subarray(chunk.buffers[2] + first, chunk.buffers[2] + last), byteAt);
      for (let i = 1; i <= chunk.length; i++) valueOffsets[rowAt + i] = byteAt + offsets[i] - first;
      rowAt += chunk.length;
      byteAt += last - first;
    }
    return { format, length, values, valueOffsets, present };
  }
  throw new CodecError('E_PART_FORMAT', `${where} has Arrow type ${JSON.stringify(format)}; the part schema uses uint32, uint16 and binary columns`);
}

function copyValidity(memory: Uint8Array, chunk: ChunkAddress, present: Uint8Array, row: number): void {
  const bitmap = chunk.buffers[0];
  if (chunk.nullCount === 0 || bitmap === 0) {
    present.fill(1, row, row + chunk.length);
    return;
  }
  for (let i = 0; i < chunk.length; i++) {
    const bit = chunk.offset + i;
    present[row + i] = (memory[bitmap + (bit >>> 3)] >>> (bit & 7)) & 1;
  }
}
