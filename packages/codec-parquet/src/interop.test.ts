import { DuckDBInstance } from '@duckdb/node-api';
import { expect, test } from 'vitest';
import { freshDatasetPath } from './expect-document.js';
import { openDatasetWriter } from './index.js';
import { syntheticCorpus, testHeader } from './synthetic.js';

test('DuckDB reads a part with the documented columns, types and row count', async () => {
  const dir = await freshDatasetPath();
  const corpus = syntheticCorpus(6, 2);
  const writer = await openDatasetWriter(dir, testHeader);
  for (const document of corpus) await writer.append(document);
  const manifest = await writer.close();
  const file = `${dir}/${manifest.parts[0].file}`.replaceAll("'", "''");

  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const describe = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`);
    const columns = describe.getRowObjects().map((row) => [row.column_name, row.column_type]);
    expect(columns).toEqual([
      ['document', 'UINTEGER'],
      ['position', 'UINTEGER'],
      ['token_id', 'UINTEGER'],
      ['unit', 'UINTEGER'],
      ['gap_unit', 'UINTEGER'],
      ['overlap', 'UINTEGER'],
      ['kept', 'USMALLINT'],
      ['tail_mass', 'USMALLINT'],
      ['probs', 'BLOB'],
      ['ids', 'BLOB'],
    ]);
    const counted = await connection.runAndReadAll(
      `SELECT count(*)::INTEGER AS n, count(DISTINCT document)::INTEGER AS documents, sum(kept)::INTEGER AS kept FROM read_parquet('${file}')`,
    );
    const tokens = corpus.reduce((sum, document) => sum + document.tokenIds.length, 0);
    expect(counted.getRowObjects()[0]).toEqual({ n: tokens, documents: 6, kept: tokens * 8 });
    // probs and ids are delta-length encoded, ids without ZSTD: DuckDB decodes both to the stored bytes.
    const layout = await connection.runAndReadAll(
      `SELECT path_in_schema AS name, compression, encodings FROM parquet_metadata('${file}') WHERE path_in_schema IN ('probs', 'ids') ORDER BY name`,
    );
    expect(layout.getRowObjects()).toEqual([
      { name: 'ids', compression: 'UNCOMPRESSED', encodings: expect.stringContaining('DELTA_LENGTH_BYTE_ARRAY') },
      { name: 'probs', compression: 'ZSTD', encodings: expect.stringContaining('DELTA_LENGTH_BYTE_ARRAY') },
    ]);
    const sizes = await connection.runAndReadAll(`SELECT sum(octet_length(probs))::INTEGER AS probs, min(octet_length(ids))::INTEGER AS ids FROM read_parquet('${file}')`);
    expect(sizes.getRowObjects()[0]).toEqual({ probs: tokens * 8, ids: expect.any(Number) });
    expect(sizes.getRowObjects()[0].ids).toBeGreaterThan(0);
    const metadata = await connection.runAndReadAll(`SELECT decode(key) AS key FROM parquet_kv_metadata('${file}') ORDER BY key`);
    expect(metadata.getRowObjects().map((row) => row.key)).toEqual(expect.arrayContaining(['kd.documents', 'kd.format', 'kd.id_ranking', 'kd.units']));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
});
