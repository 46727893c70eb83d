// What coding each row's ids against what the decoder already knows would save, measured on real
// rows before it is built into the format: bits per id of the format's rank-rice (global frequency
// rank, Rice code per row) against ranks in decoder-maintained lists (ids seen after the same input
// token earlier in the part, most frequent first), with the hard label's id as its own symbol.
// Every scheme is a real prefix code a decoder can follow row by row (nothing but the per-part
// frequency ranking is stored), so the figures are sizes, not entropy bounds.
// Run: npx tsx bench/id-contexts.ts [every]   (every how many documents of dev.jsonl; default 10)
import { keptCount, type CompressionSpec, type LabelledDocument } from '@kd/compress';
import { loadTeacher } from '@kd/teacher';
import { readCorpus, type CorpusDocument } from '@kd/text';
import { sharedDir } from './report.js';

/** Bits of a Rice code with the best parameter for `values` (5 bits for the parameter). */
function riceBits(values: ArrayLike<number>, count: number): number {
  let best = Infinity;
  for (let b = 0; b < 24; b++) {
    let bits = 5;
    for (let i = 0; i < count; i++) bits += (values[i] >>> b) + 1 + b;
    best = Math.min(best, bits);
  }
  return best;
}

/** A list of ids kept in descending count order as they are seen (what both sides can build). */
class CountedList {
  ids: number[] = [];
  counts: number[] = [];
  index = new Map<number, number>();
  see(id: number): void {
    let at: number = this.index.get(id) ?? -1;
    if (at < 0) {
      at = this.ids.length;
      this.ids.push(id);
      this.counts.push(0);
      this.index.set(id, at);
    }
    this.counts[at]++;
    while (at > 0 && this.counts[at - 1] < this.counts[at]) {
      const before: number = at - 1;
      [this.ids[before], this.ids[at]] = [this.ids[at]!, this.ids[before]!];
      [this.counts[before], this.counts[at]] = [this.counts[at]!, this.counts[before]!];
      this.index.set(this.ids[before]!, before);
      this.index.set(this.ids[at]!, at);
      at = before;
    }
  }
}

export async function measureIdContexts(teacherDir: string, corpusPath: string, every: number, spec: CompressionSpec): Promise<Record<string, number>> {
  const teacher = await loadTeacher(teacherDir, { topK: 64 });
  const corpus: CorpusDocument[] = [];
  let seen = 0;
  for await (const document of readCorpus(corpusPath)) if (seen++ % every === 0) corpus.push(document);
  const documents: LabelledDocument[] = [];
  for await (const document of teacher.label(corpus, { spec: { mode: 'fixed', k: 64 } })) documents.push(document);
  await teacher.close();

  // The rows the spec keeps, cut from the top 64.
  const rows: { ids: Uint32Array; input: number; label: number }[] = [];
  for (const document of documents) {
    const { offsets, probs, ids } = document.rows;
    for (let position = 0; position < document.rows.length; position++) {
      const count = keptCount(probs, offsets[position], offsets[position + 1] - offsets[position], spec);
      rows.push({ ids: ids.subarray(offsets[position], offsets[position] + count), input: document.tokenIds[position], label: position + 1 < document.tokenIds.length ? document.tokenIds[position + 1] : -1 });
    }
  }
  const frequency = new Map<number, number>();
  let entries = 0;
  for (const row of rows) for (const id of row.ids) (frequency.set(id, (frequency.get(id) ?? 0) + 1), entries++);
  const ranking = [...frequency.keys()].sort((a, b) => frequency.get(b)! - frequency.get(a)! || a - b);
  const globalRank = new Map(ranking.map((id, rank) => [id, rank]));
  // The ranking table itself: stored once per part (Rice-coded sorted gaps, as an estimate).
  const sortedIds = [...ranking].sort((a, b) => a - b);
  const gaps = sortedIds.map((id, i) => (i === 0 ? id : id - sortedIds[i - 1]));
  const tableBits = riceBits(gaps, gaps.length);
  // The permutation from id order back to rank order: log2(n!) bits.
  let permutationBits = 0;
  for (let i = 2; i <= ranking.length; i++) permutationBits += Math.log2(i);

  const scratch = new Uint32Array(4096);
  let rankRice = 0;
  let contextRice = 0;
  let contextLabelRice = 0;
  const lists = new Map<number, CountedList>();
  for (const row of rows) {
    const n = row.ids.length;
    for (let i = 0; i < n; i++) scratch[i] = globalRank.get(row.ids[i])!;
    rankRice += riceBits(scratch, n);

    // Context: symbol 0 = escape (then the global rank), 1 + position in this input token's list otherwise.
    const list = lists.get(row.input) ?? new CountedList();
    lists.set(row.input, list);
    const symbols: number[] = [];
    const symbolsWithLabel: number[] = [];
    const escapes: number[] = [];
    for (let i = 0; i < n; i++) {
      const id = row.ids[i];
      const at = list.index.get(id);
      symbols.push(at === undefined ? 0 : 1 + at);
      // With the label: symbol 0 is "the hard label's id", 1 escape, 2 + list position.
      symbolsWithLabel.push(id === row.label ? 0 : at === undefined ? 1 : 2 + at);
      if (at === undefined && id !== row.label) escapes.push(globalRank.get(id)!);
    }
    let escapesAll = 0;
    const allEscapes: number[] = [];
    for (let i = 0; i < n; i++) if (symbols[i] === 0) (allEscapes.push(globalRank.get(row.ids[i])!), escapesAll++);
    contextRice += riceBits(symbols, n) + (escapesAll > 0 ? riceBits(allEscapes, escapesAll) : 0);
    contextLabelRice += riceBits(symbolsWithLabel, n) + (escapes.length > 0 ? riceBits(escapes, escapes.length) : 0);
    for (let i = 0; i < n; i++) list.see(row.ids[i]);
  }
  return {
    rows: rows.length,
    entries,
    distinctIds: ranking.length,
    rankRiceBitsPerId: rankRice / entries,
    contextRiceBitsPerId: contextRice / entries,
    contextLabelRiceBitsPerId: contextLabelRice / entries,
    rankingTableBitsPerId: (tableBits + permutationBits) / entries,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const every = Number(process.argv[2] ?? 10);
  const result = await measureIdContexts(`${sharedDir}fixtures/teacher-llama-13m`, `${sharedDir}corpus/dev.jsonl`, every, { mode: 'adaptive', p: 0.95, kMin: 1, kMax: 64 });
  console.log(JSON.stringify(result, null, 2));
}
