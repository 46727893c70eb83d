// Decode throughput of this codec against an earlier one, in one process on the same rows: each
// writes the same synthetic documents in its own format, then the two read their datasets back
// alternately (sha256 checked), best of the rounds. The earlier codec is another checkout's
// packages/codec-parquet (e.g. a `git worktree add /tmp/codec-before <commit>` with its
// node_modules installed).
// Run: KD_BEFORE_CODEC=/tmp/codec-before/packages/codec-parquet npx tsx packages/codec-parquet/bench/decode-before-after.ts [rows] [k] [rounds]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LabelledDocument } from '@kd/compress';
import * as current from '../src/index.js';
import { seededRandom, syntheticDocument } from '../src/synthetic.js';

type Codec = Pick<typeof current, 'openDataset' | 'openDatasetWriter'>;

const before = process.env.KD_BEFORE_CODEC;
if (!before) throw new Error('set KD_BEFORE_CODEC to the packages/codec-parquet folder of the codec to compare against');
const earlier = (await import(join(before, 'src/index.ts'))) as Codec;
const rows = Number(process.argv[2] ?? 262_144);
const k = Number(process.argv[3] ?? 32);
const rounds = Number(process.argv[4] ?? 5);
const vocabSize = 32_000;

const random = seededRandom(7);
const documents: LabelledDocument[] = [];
for (let made = 0, index = 0; made < rows; index++) {
  const tokens = Math.min(512, rows - made);
  documents.push(syntheticDocument(index, random, { tokens, k, vocabSize, task: 'text' }));
  made += tokens;
}
const root = await mkdtemp(join(tmpdir(), 'kd-codec-before-after-'));
const header = { teacher: { id: 'synthetic', sha256: '0'.repeat(64) }, tokenizer: { sha256: '1'.repeat(64) }, vocabSize, temperature: 1, compression: { mode: 'fixed' as const, k } };
try {
  const write = async (codec: Codec, name: string) => {
    const dir = join(root, name);
    const writer = await codec.openDatasetWriter(dir, header);
    for (const document of documents) await writer.append(document);
    const manifest = await writer.close();
    return { dir, bytes: manifest.totals.bytes, formatVersion: manifest.formatVersion };
  };
  const datasets = { before: await write(earlier, 'before'), after: await write(current, 'after') };
  const decode = async (codec: Codec, dir: string) => {
    const started = performance.now();
    let decoded = 0;
    for await (const document of (await codec.openDataset(dir)).documents()) decoded += document.rows.length;
    if (decoded !== rows) throw new Error(`decoded ${decoded} rows, wrote ${rows}`);
    return rows / ((performance.now() - started) / 1000);
  };
  const best = { before: 0, after: 0 };
  for (let round = 0; round <= rounds; round++) {
    const b = await decode(earlier, datasets.before.dir);
    const a = await decode(current, datasets.after.dir);
    // Round 0 warms both up.
    if (round > 0) {
      best.before = Math.max(best.before, b);
      best.after = Math.max(best.after, a);
    }
  }
  console.log(
    JSON.stringify({
      rows,
      k,
      rounds,
      before: { formatVersion: datasets.before.formatVersion, decodeRowsPerSecond: Math.round(best.before), bytesPerRow: datasets.before.bytes / rows },
      after: { formatVersion: datasets.after.formatVersion, decodeRowsPerSecond: Math.round(best.after), bytesPerRow: datasets.after.bytes / rows },
      ratio: best.after / best.before,
    }),
  );
} finally {
  await rm(root, { recursive: true, force: true });
}
