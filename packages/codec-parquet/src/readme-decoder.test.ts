// A second decoder of the on-disk format, written only from README.md ("The schema") and reading
// the Parquet files with DuckDB instead of kd's parquet-wasm reader: it must give the same
// documents as `openDataset` for every quantization scheme, ragged rows, spans with gaps,
// overlaps and trailing text, and a merged dataset whose parts lie in member folders. The same
// steps are what docs/reference/read_kd.py does with pyarrow and numpy.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { LabelledDocument } from '@kd/compress';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatasetPath } from './expect-document.js';
import { mergeDatasets, openDataset, openDatasetWriter, quantizationSchemes, type Manifest, type QuantizationScheme } from './index.js';
import { readManifest } from './manifest.js';
import { seededRandom, syntheticCorpus, testHeader } from './synthetic.js';

interface DecodedDocument {
  index: number;
  id: string;
  task: string | null;
  text: string;
  tokenIds: number[];
  offsets: number[];
  rows: { ids: number[]; probs: number[]; tailMass: number }[];
}

/** README "probs": the codes, then the probabilities of one row. */
function decodeProbs(bytes: Uint8Array, kept: number, scheme: string): number[] {
  const wide = scheme !== 'u8-log';
  const codes: number[] = [];
  for (let i = 0; i < kept; i++) codes.push(wide ? bytes[2 * i]! | (bytes[2 * i + 1]! << 8) : bytes[i]!);
  if (scheme === 'u16-linear') {
    // First value the code, later values the decrease from the previous code.
    for (let i = 1; i < kept; i++) codes[i] = codes[i - 1]! - codes[i]!;
    return codes.map((code) => code / 65535);
  }
  for (let i = 1; i < kept; i++) codes[i] = codes[i - 1]! + codes[i]!;
  return scheme === 'u8-log' ? codes.map((code) => 2 ** ((-code * 20) / 255)) : codes.map((code) => 2 ** ((-code * 32) / 65535));
}

/** README "ids" (version 1, rank-rice): bits most significant first; 5 bits b, then per id a unary quotient, a zero, b low bits. */
function decodeIds(bytes: Uint8Array, kept: number, ranking: number[]): number[] {
  let bit = 0;
  const next = () => (bytes[bit >>> 3]! >>> (7 - (bit++ & 7))) & 1;
  const read = (width: number) => {
    let value = 0;
    for (let i = 0; i < width; i++) value = value * 2 + next();
    return value;
  };
  const b = read(5);
  const ids: number[] = [];
  for (let i = 0; i < kept; i++) {
    let quotient = 0;
    while (next() === 1) quotient++;
    const rank = quotient * 2 ** b + read(b);
    ids.push(ranking[rank]!);
  }
  return ids;
}

/** README `kd.id_ranking` (version 2): base64 of LEB128 varints, runs of ascending ids. */
function decodeRanking(text: string): number[] {
  const bytes = Buffer.from(text, 'base64');
  let at = 0;
  const varint = () => {
    let value = 0;
    for (let scale = 1; ; scale *= 128) {
      const byte = bytes[at++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
    }
  };
  const ids: number[] = [];
  for (let runs = varint(); runs > 0; runs--) {
    const n = varint();
    let id = varint();
    ids.push(id);
    for (let i = 1; i < n; i++) ids.push((id += varint() + 1));
  }
  return ids;
}

/** README "ids" (context-huffman): canonical Huffman codes as DEFLATE assigns them, "length:code" → symbol. */
function codeTable(lengths: number[]): Map<string, number> {
  const count = new Array<number>(17).fill(0);
  for (const length of lengths) if (length > 0) count[length]!++;
  const next = new Array<number>(17).fill(0);
  let code = 0;
  for (let bits = 1; bits <= 15; bits++) {
    code = (code + count[bits - 1]!) << 1;
    next[bits] = code;
  }
  const table = new Map<string, number>();
  lengths.forEach((length, symbol) => {
    if (length > 0) table.set(`${length}:${next[length]!++}`, symbol);
  });
  return table;
}

/** README "ids" (context-huffman): one row, given its reference row's ids. */
function decodeContextIds(bytes: Uint8Array, kept: number, reference: number[], table: Map<string, number>, ranking: number[]): number[] {
  let bit = 0;
  const read = (width: number) => {
    let value = 0;
    for (let i = 0; i < width; i++, bit++) value = value * 2 + ((bytes[bit >>> 3]! >>> (7 - (bit & 7))) & 1);
    return value;
  };
  const ids: number[] = [];
  for (let i = 0; i < kept; i++) {
    let code = 0;
    let length = 0;
    while (!table.has(`${length}:${code}`)) {
      expect(length).toBeLessThan(15);
      code = code * 2 + read(1);
      length++;
    }
    const symbol = table.get(`${length}:${code}`)!;
    if (symbol < 64) {
      expect(symbol).toBeLessThan(reference.length);
      ids.push(reference[symbol]!);
    } else {
      const b = symbol - 64;
      ids.push(ranking[2 ** b - 1 + read(b)]!);
    }
  }
  return ids;
}

async function rowsOf(connection: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await connection.runAndReadAll(sql)).getRowObjects() as Record<string, unknown>[];
}

const blob = (value: unknown) => (value === null ? null : (value as { bytes: Uint8Array }).bytes);

/** Decodes every part the manifest lists, as README.md says, with DuckDB as the Parquet reader. */
async function decodeWithDuckDb(connection: DuckDBConnection, dir: string): Promise<DecodedDocument[]> {
  const manifest = await readManifest(dir);
  const out: DecodedDocument[] = [];
  for (const part of manifest.parts) {
    const file = join(dir, part.file).replaceAll("'", "''");
    const metadata = new Map<string, unknown>();
    for (const row of await rowsOf(connection, `SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata('${file}')`)) {
      // Only the kd.* keys are kd's; the writer's Arrow library adds ARROW:schema (base64) beside them.
      if (!(row.key as string).startsWith('kd.')) continue;
      const value = row.value as string;
      metadata.set(row.key as string, row.key === 'kd.id_ranking' && !value.startsWith('[') ? value : JSON.parse(value));
    }
    const format = metadata.get('kd.format') as { formatVersion: number; quantization: string; idPacking: string; idCodeLengths?: number[] };
    expect(format.idPacking).toBe(format.formatVersion === 2 ? 'context-huffman' : 'rank-rice');
    const context = format.idPacking === 'context-huffman';
    const codes = context ? codeTable(format.idCodeLengths!) : undefined;
    // Reference rows (version 2): the latest coded row of each input token, and the previous one.
    const latest = new Map<number, number[]>();
    let previous: number[] = [];
    const documents = metadata.get('kd.documents') as { index: number[]; id: string[]; task: (string | null)[]; tokens: number[]; rows: number[]; trailingUnit: (number | null)[] };
    const units = metadata.get('kd.units') as { codes: number[]; texts: string[] };
    const ranking = context ? decodeRanking(metadata.get('kd.id_ranking') as string) : (metadata.get('kd.id_ranking') as number[]);
    const unitText = new Map(units.codes.map((code, i) => [code, units.texts[i]!]));
    const table = await rowsOf(connection, `SELECT * FROM read_parquet('${file}') ORDER BY document, position`);
    let row = 0;
    for (let d = 0; d < documents.index.length; d++) {
      const document: DecodedDocument = { index: documents.index[d]!, id: documents.id[d]!, task: documents.task[d]!, text: '', tokenIds: [], offsets: [], rows: [] };
      let covered = 0;
      for (let position = 0; position < documents.tokens[d]!; position++, row++) {
        const record = table[row]!;
        expect([record.document, record.position]).toEqual([document.index, position]);
        // README "Rebuilding text and spans".
        if (record.gap_unit !== null) {
          document.text += unitText.get(record.gap_unit as number)!;
          covered = document.text.length;
        }
        const unit = unitText.get(record.unit as number)!;
        const start = covered - (record.overlap as number);
        const end = start + unit.length;
        if (end > covered) document.text += unit.slice(covered - start);
        covered = Math.max(covered, end);
        document.tokenIds.push(record.token_id as number);
        document.offsets.push(start, end);
        if (position < documents.rows[d]!) {
          const kept = record.kept as number;
          let ids: number[];
          if (!context) ids = decodeIds(blob(record.ids)!, kept, ranking);
          else if (kept === 0) ids = [];
          else {
            const token = record.token_id as number;
            ids = decodeContextIds(blob(record.ids)!, kept, latest.get(token) ?? previous, codes!, ranking);
            latest.set(token, ids);
            previous = ids;
          }
          document.rows.push({
            ids,
            probs: decodeProbs(blob(record.probs)!, kept, format.quantization),
            tailMass: (record.tail_mass as number) / 65535,
          });
        } else {
          expect(record.kept).toBeNull();
        }
      }
      const trailing = documents.trailingUnit[d];
      if (trailing !== null && trailing !== undefined) document.text += unitText.get(trailing)!;
      out.push(document);
    }
    expect(row).toBe(table.length);
  }
  return out;
}

/** kd's reader, in the same shape (probabilities as the Float32 values it returns). */
async function decodeWithKd(dir: string): Promise<DecodedDocument[]> {
  const out: DecodedDocument[] = [];
  for await (const document of (await openDataset(dir)).documents()) {
    const rows = [];
    for (let r = 0; r < document.rows.length; r++) {
      const from = document.rows.offsets[r]!;
      const to = document.rows.offsets[r + 1]!;
      rows.push({ ids: Array.from(document.rows.ids.subarray(from, to)), probs: Array.from(document.rows.probs.subarray(from, to)), tailMass: document.rows.tailMass[r]! });
    }
    out.push({ index: document.index, id: document.id, task: document.task ?? null, text: document.text, tokenIds: Array.from(document.tokenIds), offsets: Array.from(document.offsets), rows });
  }
  return out;
}

/** A document with every span case the README lists: an empty BOS span, a skipped space, two byte pieces of one emoji, trailing text, fewer rows than tokens, no task. */
function spanCases(index: number): LabelledDocument {
  const text = 'Hi, wörld 🙂!';
  const offsets = Uint32Array.from([0, 0, 0, 2, 2, 3, 4, 9, 10, 12, 10, 12]);
  const random = seededRandom(index);
  const kept = [3, 1, 5, 2];
  const offsetsOfRows = Uint32Array.from([0, 3, 4, 9, 11]);
  const ids = Uint32Array.from({ length: 11 }, () => Math.floor(random() * 32_000));
  const probs = new Float32Array(11);
  const tailMass = new Float32Array(4);
  kept.forEach((count, r) => {
    let p = 0.6;
    for (let i = 0; i < count; i++) probs[offsetsOfRows[r]! + i] = p *= 0.5;
    tailMass[r] = 0.1;
  });
  return { index, id: `spans-${index}`, text, tokenIds: Uint32Array.from([1, 20, 30, 40, 50, 51]), offsets, rows: { length: 4, offsets: offsetsOfRows, ids, probs, tailMass } };
}

async function writeDataset(dir: string, documents: LabelledDocument[], quantization: QuantizationScheme): Promise<Manifest> {
  const writer = await openDatasetWriter(dir, { ...testHeader, compression: { mode: 'adaptive', p: 0.9, kMin: 1, kMax: 8 } }, { quantization, rowsPerPart: 120 });
  for (const document of documents) await writer.append(document);
  return writer.close();
}

/** Probabilities as kd returns them (Float32) are the README's values rounded to float32. */
function asFloat32(documents: DecodedDocument[]): DecodedDocument[] {
  return documents.map((document) => ({ ...document, rows: document.rows.map((row) => ({ ...row, probs: row.probs.map(Math.fround), tailMass: Math.fround(row.tailMass) })) }));
}

describe('an independent decoder written from README.md reads what openDataset reads', () => {
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;
  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:');
    connection = await instance.connect();
  });
  afterAll(() => {
    connection.closeSync();
    instance.closeSync();
  });

  for (const scheme of quantizationSchemes) {
    it(`quantization ${scheme}: same documents, text, spans, ids, probabilities and tail`, async () => {
      const corpus = [...syntheticCorpus(12, 7, 8), spanCases(12)];
      const dir = await freshDatasetPath();
      const manifest = await writeDataset(dir, corpus, scheme);
      expect(manifest.parts.length).toBeGreaterThan(1);
      const independent = await decodeWithDuckDb(connection, dir);
      const kd = await decodeWithKd(dir);
      expect(kd).toHaveLength(corpus.length);
      expect(asFloat32(independent)).toEqual(kd);
      expect(independent.at(-1)!.text).toBe('Hi, wörld 🙂!');
    });
  }

  it('a merged dataset (parts in member folders) reads the same both ways', async () => {
    const root = await freshDatasetPath();
    await mkdir(root, { recursive: true });
    const corpus = syntheticCorpus(10, 3, 8);
    await writeDataset(join(root, 'even'), corpus.filter((document) => document.index % 2 === 0), 'u8-log');
    await writeDataset(join(root, 'odd'), [...corpus.filter((document) => document.index % 2 === 1), spanCases(11)], 'u8-log');
    await mergeDatasets(root, ['even', 'odd']);
    const independent = await decodeWithDuckDb(connection, root);
    expect(independent.map((document) => document.index)).toEqual([0, 2, 4, 6, 8, 1, 3, 5, 7, 9, 11]);
    expect(asFloat32(independent)).toEqual(await decodeWithKd(root));
  });
});

// docs/reference/read_kd.py needs pyarrow, which is not installed here; numpy is. Its logic runs
// on the same parts with pyarrow.parquet replaced by a stand-in that serves what DuckDB read (the
// key-value metadata and the columns), so only pyarrow's own reading is not exercised.
const readKd = fileURLToPath(new URL('../../../docs/reference/read_kd.py', import.meta.url));
const haveNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

const pyarrowStandIn = `
import json
class _Column:
    def __init__(self, values): self.values = values
    def to_pylist(self): return list(self.values)
    def to_numpy(self):
        import numpy as np
        return np.asarray(self.values)
class _Table:
    def __init__(self, columns): self.columns = columns
    def sort_by(self, keys):
        n = len(next(iter(self.columns.values())))
        order = sorted(range(n), key=lambda i: tuple(self.columns[k][i] for k, _ in keys))
        return _Table({k: [v[i] for i in order] for k, v in self.columns.items()})
    def column(self, name): return _Column(self.columns[name])
class _Schema:
    def __init__(self, metadata): self.metadata = metadata
class ParquetFile:
    def __init__(self, path):
        with open(path + ".json") as f: dump = json.load(f)
        self.schema_arrow = _Schema({k.encode(): v.encode() for k, v in dump["metadata"].items()})
        self._columns = {k: [bytes.fromhex(y["hex"]) if isinstance(y, dict) else y for y in v] for k, v in dump["columns"].items()}
    def read(self): return _Table(self._columns)
`;

const pythonDriver = `
import json, sys
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[2])
from read_kd import read_dataset
out = []
for doc in read_dataset(sys.argv[3]):
    rows = []
    for r in range(len(doc["tail_mass"])):
        a, b = int(doc["row_offsets"][r]), int(doc["row_offsets"][r + 1])
        rows.append({"ids": [int(x) for x in doc["ids"][a:b]], "probs": [float(x) for x in doc["probs"][a:b]], "tailMass": float(doc["tail_mass"][r])})
    out.append({"index": doc["index"], "id": doc["id"], "task": doc["task"], "text": doc["text"],
                "tokenIds": [int(x) for x in doc["token_ids"]], "offsets": [int(x) for x in doc["offsets"].reshape(-1)], "rows": rows})
print(json.dumps(out))
`;

/** Dumps each part's metadata and columns (binary as hex) beside it as part-NNNNN.parquet.json, read with DuckDB. */
async function dumpParts(connection: DuckDBConnection, dir: string): Promise<void> {
  for (const part of (await readManifest(dir)).parts) {
    const file = join(dir, part.file);
    const quoted = file.replaceAll("'", "''");
    const metadata: Record<string, string> = {};
    for (const row of await rowsOf(connection, `SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata('${quoted}')`)) metadata[row.key as string] = row.value as string;
    const rows = await rowsOf(connection, `SELECT * FROM read_parquet('${quoted}')`);
    const columns: Record<string, unknown[]> = {};
    for (const name of ['document', 'position', 'token_id', 'unit', 'gap_unit', 'overlap', 'kept', 'tail_mass', 'probs', 'ids']) {
      columns[name] = rows.map((row) => {
        const value = row[name];
        return value !== null && typeof value === 'object' ? { hex: Buffer.from(blob(value)!).toString('hex') } : value;
      });
    }
    await writeFile(`${file}.json`, JSON.stringify({ metadata, columns }));
  }
}

describe.skipIf(!haveNumpy)('docs/reference/read_kd.py (numpy; pyarrow stood in by DuckDB\'s reading)', () => {
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;
  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:');
    connection = await instance.connect();
  });
  afterAll(() => {
    connection.closeSync();
    instance.closeSync();
  });

  it('decodes every quantization scheme and a merged dataset as openDataset does', async () => {
    const shim = await mkdtemp(join(tmpdir(), 'kd-pyarrow-'));
    await mkdir(join(shim, 'pyarrow'));
    await writeFile(join(shim, 'pyarrow', '__init__.py'), '');
    await writeFile(join(shim, 'pyarrow', 'parquet.py'), pyarrowStandIn);
    await writeFile(join(shim, 'driver.py'), pythonDriver);
    const datasets: string[] = [];
    for (const scheme of quantizationSchemes) {
      const dir = await freshDatasetPath();
      await writeDataset(dir, [...syntheticCorpus(8, 11, 8), spanCases(8)], scheme);
      datasets.push(dir);
    }
    const root = await freshDatasetPath();
    await mkdir(root, { recursive: true });
    const corpus = syntheticCorpus(6, 5, 8);
    await writeDataset(join(root, 'a'), corpus.slice(0, 3), 'u8-log');
    await writeDataset(join(root, 'b'), corpus.slice(3), 'u8-log');
    await mergeDatasets(root, ['a', 'b']);
    datasets.push(root);
    for (const dir of datasets) {
      await dumpParts(connection, dir);
      const output = execFileSync('python3', [join(shim, 'driver.py'), shim, join(readKd, '..'), dir], { encoding: 'utf8', maxBuffer: 64 << 20 });
      expect(JSON.parse(output)).toEqual(await decodeWithKd(dir));
    }
  });
});
