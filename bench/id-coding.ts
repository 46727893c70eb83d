// Id coding options for format version 2, measured on real rows before one was built into the
// format: bits per id of a per-row Rice code of global frequency ranks (format version 1), and
// of references to earlier rows (the previous row, the latest row with the same input token,
// two such rows, with and without the previous row) where the ids not found escape to their
// global rank; as empirical entropies and as static Huffman codes over the symbols (the sizes a
// real code reaches). The format took "same-or-prev L64" (README, id-context-coding.ts).
// Run: npx tsx bench/id-coding.ts [every] [all]  (every how many documents of dev.jsonl; default 10;
// without "all" only the documents the storage bench uses, every 30th)
import { loadTeacher } from '@kd/teacher';
import { readCorpus, type CorpusDocument } from '@kd/text';
import { sharedDir } from './report.js';
const every = Number(process.argv[2] ?? 10);
const teacher = await loadTeacher(`${sharedDir}fixtures/teacher-llama-13m`, { topK: 64 });
const corpus: CorpusDocument[] = [];
let seen = 0;
for await (const document of readCorpus(`${sharedDir}corpus/dev.jsonl`)) if (seen++ % every === 0) corpus.push(document);
const docsAll: { index: number; tokenIds: Uint32Array; offsets: Uint32Array; ids: Uint32Array; probs: Float32Array; length: number }[] = [];
for await (const d of teacher.label(corpus, { spec: { mode: 'fixed', k: 64 } })) docsAll.push({ index: d.index, tokenIds: d.tokenIds, offsets: d.rows.offsets, ids: d.rows.ids, probs: d.rows.probs, length: d.rows.length });
await teacher.close();
const sub = process.argv[3] === 'all' ? docsAll : docsAll.filter((d) => d.index % 30 === 0);
// cut adaptive p=0.95
type Row = { ids: Uint32Array; input: number; doc: number; pos: number };
const rows: Row[] = [];
for (const d of sub) for (let t = 0; t < d.length; t++) {
  const s = d.offsets[t], e = d.offsets[t + 1];
  let sum = 0, c = 0;
  while (s + c < e && (c < 1 || sum < 0.95)) { sum += d.probs[s + c]; c++; }
  rows.push({ ids: d.ids.subarray(s, s + c), input: d.tokenIds[t], doc: d.index, pos: t });
}
let entries = 0; const freq = new Map<number, number>();
for (const r of rows) for (const id of r.ids) { freq.set(id, (freq.get(id) ?? 0) + 1); entries++; }
const ranking = [...freq.keys()].sort((a, b) => freq.get(b)! - freq.get(a)! || a - b);
const grank = new Map(ranking.map((id, i) => [id, i]));
console.log({ rows: rows.length, entries, meanKept: entries / rows.length, distinct: ranking.length });
function H(counts: Map<number, number>): number { let n = 0; for (const v of counts.values()) n += v; let h = 0; for (const v of counts.values()) h -= v * Math.log2(v / n); return h; }
function rice(vals: number[]): number { if (!vals.length) return 0; let best = Infinity; for (let b = 0; b < 20; b++) { let bits = 5; for (const v of vals) bits += (v >>> b) + 1 + b; best = Math.min(best, bits); } return best; }
function gammaBits(v: number) { return 2 * Math.floor(Math.log2(v + 1)) + 1; }
// S0
let s0 = 0; for (const r of rows) s0 += rice(Array.from(r.ids, (id) => grank.get(id)!));
console.log('S0 rank-rice bits/id', (s0 / entries).toFixed(2));
const ghist = new Map<number, number>(); for (const r of rows) for (const id of r.ids) { const g = grank.get(id)!; const b = Math.floor(Math.log2(g + 1)); ghist.set(b, (ghist.get(b) ?? 0) + 1); }
let gext = 0; for (const r of rows) for (const id of r.ids) gext += Math.floor(Math.log2(grank.get(id)! + 1));
console.log('global rank: H(bucket)+extra', ((H(ghist) + gext) / entries).toFixed(2));
function refScheme(name: string, refOf: (i: number) => Uint32Array[]) {
  const sym = new Map<number, number>(); const symRel = new Map<number, number>();
  let escBits = 0, escs = 0, escBucket = new Map<number, number>(), escExtra = 0;
  let riceBitsTotal = 0;
  for (let i = 0; i < rows.length; i++) {
    const refs = refOf(i); const cand: number[] = []; const seen = new Set<number>();
    for (const ref of refs) for (const id of ref) if (!seen.has(id)) { seen.add(id); cand.push(id); }
    const at = new Map(cand.map((id, j) => [id, j]));
    const r = rows[i]; const rowSyms: number[] = []; const rowEsc: number[] = [];
    for (let k = 0; k < r.ids.length; k++) {
      const j = at.get(r.ids[k]);
      const s = j === undefined ? -1 : j;
      sym.set(s, (sym.get(s) ?? 0) + 1);
      const rel = j === undefined ? 1e9 : (j - k);
      symRel.set(rel, (symRel.get(rel) ?? 0) + 1);
      if (j === undefined) { const g = grank.get(r.ids[k])!; escs++; const b = Math.floor(Math.log2(g + 1)); escBucket.set(b, (escBucket.get(b) ?? 0) + 1); escExtra += b; rowEsc.push(g); rowSyms.push(0); } else rowSyms.push(j + 1);
    }
    riceBitsTotal += rice(rowSyms) + rice(rowEsc);
  }
  const hs = H(sym), hr = H(symRel), he = H(escBucket) + escExtra;
  console.log(name, 'escape%', (100 * escs / entries).toFixed(1), 'H(sym)+esc', ((hs + he) / entries).toFixed(2), 'H(rel)+esc', ((hr + he) / entries).toFixed(2), 'rice', (riceBitsTotal / entries).toFixed(2), 'alphabet', sym.size);
}
const lastByInput = new Map<number, number>(); const sameInput: number[] = [];
for (let i = 0; i < rows.length; i++) { sameInput.push(lastByInput.get(rows[i].input) ?? -1); lastByInput.set(rows[i].input, i); }
const E = new Uint32Array(0);
refScheme('prev', (i) => [i > 0 ? rows[i - 1].ids : E]);
refScheme('same-input', (i) => [sameInput[i] >= 0 ? rows[sameInput[i]].ids : i > 0 ? rows[i - 1].ids : E]);
refScheme('same+prev', (i) => [sameInput[i] >= 0 ? rows[sameInput[i]].ids : E, i > 0 ? rows[i - 1].ids : E]);
refScheme('same+same2+prev', (i) => { const a = sameInput[i]; const b = a >= 0 ? sameInput[a] : -1; return [a >= 0 ? rows[a].ids : E, b >= 0 ? rows[b].ids : E, i > 0 ? rows[i - 1].ids : E]; });
refScheme('prev+prev2', (i) => [i > 0 ? rows[i - 1].ids : E, i > 1 ? rows[i - 2].ids : E]);
refScheme('same+prev+prev2', (i) => [sameInput[i] >= 0 ? rows[sameInput[i]].ids : E, i > 0 ? rows[i - 1].ids : E, i > 1 ? rows[i - 2].ids : E]);
{
  // adaptive per-input counted list: symbol = index in list, or escape
  const lists = new Map<number, { ids: number[]; counts: number[]; index: Map<number, number> }>();
  const sym = new Map<number, number>(); let escs = 0; const escB = new Map<number, number>(); let escX = 0;
  const symB = new Map<number, number>(); let symX = 0;
  for (const r of rows) {
    let L = lists.get(r.input); if (!L) { L = { ids: [], counts: [], index: new Map() }; lists.set(r.input, L); }
    for (const id of r.ids) {
      const j = L.index.get(id);
      if (j === undefined) { escs++; const g = grank.get(id)!; const b = Math.floor(Math.log2(g + 1)); escB.set(b, (escB.get(b) ?? 0) + 1); escX += b; symB.set(-1, (symB.get(-1) ?? 0) + 1); }
      else { const b = Math.floor(Math.log2(j + 1)); symB.set(b, (symB.get(b) ?? 0) + 1); symX += b; }
    }
    for (const id of r.ids) { let at = L.index.get(id) ?? -1; if (at < 0) { at = L.ids.length; L.ids.push(id); L.counts.push(0); L.index.set(id, at); } L.counts[at]++; while (at > 0 && L.counts[at - 1] < L.counts[at]) { const b = at - 1; [L.ids[b], L.ids[at]] = [L.ids[at], L.ids[b]]; [L.counts[b], L.counts[at]] = [L.counts[at], L.counts[b]]; L.index.set(L.ids[b], b); L.index.set(L.ids[at], at); at = b; } }
  }
  console.log('counted-list escape%', (100 * escs / entries).toFixed(1), 'bits/id', ((H(symB) + symX + H(escB) + escX) / entries).toFixed(2));
}
function huffLengths(counts: number[]): number[] {
  // package-merge free: plain Huffman via sorting (unbounded lengths)
  const nodes: { w: number; syms: number[] }[] = counts.map((w, s) => ({ w, syms: [s] })).filter((n) => n.w > 0);
  const len = counts.map(() => 0);
  if (nodes.length === 1) { len[nodes[0].syms[0]] = 1; return len; }
  while (nodes.length > 1) { nodes.sort((a, b) => a.w - b.w); const a = nodes.shift()!, b = nodes.shift()!; for (const s of a.syms) len[s]++; for (const s of b.syms) len[s]++; nodes.push({ w: a.w + b.w, syms: [...a.syms, ...b.syms] }); }
  return len;
}
function huffScheme(name: string, L: number, refOf: (i: number) => Uint32Array[]) {
  const counts = new Array(L + 33).fill(0); let extra = 0;
  for (let i = 0; i < rows.length; i++) {
    const cand: number[] = []; for (const ref of refOf(i)) for (const id of ref) cand.push(id);
    const at = new Map<number, number>(); for (let j = Math.min(cand.length, L) - 1; j >= 0; j--) at.set(cand[j], j);
    for (const id of rows[i].ids) { const j = at.get(id); if (j !== undefined) counts[j]++; else { const g = grank.get(id)!; const b = 31 - Math.clz32(g + 1); counts[L + b]++; extra += b; } }
  }
  const len = huffLengths(counts); let bits = extra; counts.forEach((c, s) => (bits += c * len[s]));
  console.log(name, 'huffman bits/id', (bits / entries).toFixed(3), 'maxlen', Math.max(...len));
}
huffScheme('global-only', 0, () => []);
huffScheme('same L64', 64, (i) => [sameInput[i] >= 0 ? rows[sameInput[i]].ids : E]);
huffScheme('same-or-prev L64', 64, (i) => [sameInput[i] >= 0 ? rows[sameInput[i]].ids : i > 0 ? rows[i - 1].ids : E]);
huffScheme('same+same2 L128', 128, (i) => { const a = sameInput[i]; const b = a >= 0 ? sameInput[a] : -1; return [a >= 0 ? rows[a].ids : E, b >= 0 ? rows[b].ids : E]; });
huffScheme('same+prev L128', 128, (i) => [sameInput[i] >= 0 ? rows[sameInput[i]].ids : E, i > 0 ? rows[i - 1].ids : E]);
huffScheme('same+same2+prev L192', 192, (i) => { const a = sameInput[i]; const b = a >= 0 ? sameInput[a] : -1; return [a >= 0 ? rows[a].ids : E, b >= 0 ? rows[b].ids : E, i > 0 ? rows[i - 1].ids : E]; });
