import * as arrow from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import { expect, test } from 'vitest';
import { takeColumns } from './wasm-columns.js';

/** A small table with nulls in a uint32, a uint16 and a binary column, written as Parquet. */
function sampleParquet(rows: number): { file: Uint8Array; table: arrow.Table } {
  const uint32 = arrow.vectorFromArray(Array.from({ length: rows }, (_, i) => (i % 3 === 0 ? null : i * 7919)), new arrow.Uint32());
  const uint16 = arrow.vectorFromArray(Array.from({ length: rows }, (_, i) => (i % 5 === 0 ? null : i % 65536)), new arrow.Uint16());
  const binary = arrow.vectorFromArray(
    Array.from({ length: rows }, (_, i) => (i % 4 === 1 ? null : Uint8Array.from({ length: i % 6 }, (_, j) => (i + j) & 0xff))),
    new arrow.Binary(),
  );
  const table = new arrow.Table({ number: uint32, small: uint16, bytes: binary });
  const properties = new parquet.WriterPropertiesBuilder().setCompression(parquet.Compression.ZSTD).build();
  return { file: parquet.writeParquet(parquet.Table.fromIPCStream(arrow.tableToIPC(table, 'stream')), properties), table };
}

test.each([1000, 7])('columns read through the C data interface match the IPC route (batch size %i, so one or many chunks)', (batchSize) => {
  const rows = 100;
  const { file, table } = sampleParquet(rows);
  const columns = takeColumns(parquet.readParquet(file, { batchSize }), 'sample.parquet');
  expect([...columns.keys()]).toEqual(['number', 'small', 'bytes']);

  const number = columns.get('number')!;
  expect(number).toMatchObject({ format: 'I', length: rows });
  const numbers = new Uint32Array(number.values.buffer, number.values.byteOffset, rows);
  const small = columns.get('small')!;
  expect(small).toMatchObject({ format: 'S', length: rows });
  const smalls = new Uint16Array(small.values.buffer, small.values.byteOffset, rows);
  const bytes = columns.get('bytes')!;
  expect(bytes).toMatchObject({ format: 'z', length: rows });
  for (let i = 0; i < rows; i++) {
    const expectedNumber = table.getChild('number')!.get(i);
    expect(number.present?.[i] ?? 1).toBe(expectedNumber === null ? 0 : 1);
    if (expectedNumber !== null) expect(numbers[i]).toBe(expectedNumber);
    const expectedSmall = table.getChild('small')!.get(i);
    expect(small.present?.[i] ?? 1).toBe(expectedSmall === null ? 0 : 1);
    if (expectedSmall !== null) expect(smalls[i]).toBe(expectedSmall);
    const expectedBytes = table.getChild('bytes')!.get(i) as Uint8Array | null;
    expect(bytes.present?.[i] ?? 1).toBe(expectedBytes === null ? 0 : 1);
    const stored = bytes.values.subarray(bytes.valueOffsets![i], bytes.valueOffsets![i + 1]);
    expect(Array.from(stored)).toEqual(expectedBytes === null ? [] : Array.from(expectedBytes));
  }
  // Word-wise readers may load past the last value: the buffer keeps spare bytes after it.
  expect(bytes.values.buffer.byteLength).toBeGreaterThanOrEqual(bytes.values.byteOffset + bytes.values.length + 8);
});

test('a column type the part schema never uses is refused', () => {
  const table = new arrow.Table({ wide: arrow.vectorFromArray([1.5, 2.5], new arrow.Float64()) });
  const file = parquet.writeParquet(parquet.Table.fromIPCStream(arrow.tableToIPC(table, 'stream')));
  expect(() => takeColumns(parquet.readParquet(file), 'other.parquet')).toThrow(expect.objectContaining({ code: 'E_PART_FORMAT', message: expect.stringContaining('other.parquet: column wide') }));
});
