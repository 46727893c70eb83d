// Cuts the built-in example's corpus, examples/corpus/{train,dev}.jsonl, from the shared
// corpus: a fixed share of every task, picked by a hash of each record's id (so the slice is
// the same on every run and spreads over the whole corpus rather than its first lines), and
// capped in bytes so the repository stays small. Records are copied unchanged.
//
//   npx tsx tools/make-example-corpus.ts [--shared ../shared/corpus] [--out examples/corpus]
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    shared: { type: 'string', default: join(repoRoot, '../shared/corpus') },
    out: { type: 'string', default: join(repoRoot, 'examples/corpus') },
  },
});

/** Bytes kept per task: long prose and code documents are few, short records many. */
const budgets: Record<string, Record<string, number>> = {
  train: { text: 700_000, code: 400_000, classify: 250_000, translate: 450_000 },
  dev: { text: 120_000, code: 80_000, classify: 60_000, translate: 60_000 },
};

/** Position of a record in a hash order of ids: a deterministic, corpus-wide sample. */
function rank(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

async function slice(split: 'train' | 'dev'): Promise<string> {
  const records: { task: string; id: string; line: string }[] = [];
  const lines = createInterface({ input: createReadStream(join(resolve(values.shared), `${split}.jsonl`), 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const record = JSON.parse(line) as { task: string; id: string };
    records.push({ task: record.task, id: record.id, line });
  }
  records.sort((a, b) => (rank(a.id) < rank(b.id) ? -1 : 1));
  const used: Record<string, number> = {};
  const kept: string[] = [];
  for (const record of records) {
    const budget = budgets[split][record.task] ?? 0;
    const size = Buffer.byteLength(record.line) + 1;
    if ((used[record.task] ?? 0) + size > budget) continue;
    used[record.task] = (used[record.task] ?? 0) + size;
    kept.push(record.line);
  }
  const outFile = join(resolve(values.out), `${split}.jsonl`);
  await writeFile(outFile, `${kept.join('\n')}\n`);
  return `${outFile}: ${kept.length} records, ${Object.entries(used).map(([task, bytes]) => `${task} ${(bytes / 1000).toFixed(0)} kB`).join(', ')}`;
}

await mkdir(resolve(values.out), { recursive: true });
for (const split of ['train', 'dev'] as const) process.stdout.write(`${await slice(split)}\n`);
