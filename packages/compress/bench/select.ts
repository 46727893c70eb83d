// Benchmark: selection from vocabulary-size rows, bounded-heap selectTopK / selectTopP against a
// full sort of the vocabulary (what a naive implementation does). Rows are softmax outputs of
// seeded Gaussian logits, so every run measures the same data.
// Run alone with `npx tsx packages/compress/bench/select.ts`; the repo bench runner imports benchSelect().

import { pathToFileURL } from 'node:url';
import { selectTopK, selectTopP, softmax } from '../src/index.js';

const ROWS = 256;
const VOCABULARY = 32_000;
const LOGIT_SCALE = 3;

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
}

export async function benchSelect(): Promise<BenchResult[]> {
  const rows = makeRows();
  const results: BenchResult[] = [];
  const perRow = (name: string, run: (row: Float32Array) => unknown): number => {
    // One warm-up pass so the JIT has compiled the kernel before the timed pass.
    for (const row of rows) run(row);
    const started = performance.now();
    for (const row of rows) run(row);
    const microseconds = ((performance.now() - started) * 1000) / rows.length;
    results.push({ name, value: round(microseconds), unit: 'µs/row' });
    return microseconds;
  };

  const logits = makeLogits(1)[0];
  const out = new Float32Array(VOCABULARY);
  perRow(`softmax [${VOCABULARY}]`, () => softmax(logits, 1, out));
  const topK = perRow(`selectTopK k=64 [${ROWS}×${VOCABULARY}]`, (row) => selectTopK(row, { k: 64 }));
  const topK20 = perRow(`selectTopK k=20 [${ROWS}×${VOCABULARY}]`, (row) => selectTopK(row, { k: 20 }));
  const topP = perRow(`selectTopP p=0.95 kMax=64 [${ROWS}×${VOCABULARY}]`, (row) => selectTopP(row, { p: 0.95, kMax: 64 }));
  const sorted = perRow(`full sort [${ROWS}×${VOCABULARY}]`, fullSortTop64);

  results.push({ name: 'full sort / selectTopK k=64', value: round(sorted / topK), unit: '×' });
  results.push({ name: 'full sort / selectTopK k=20', value: round(sorted / topK20), unit: '×' });
  results.push({ name: 'full sort / selectTopP p=0.95', value: round(sorted / topP), unit: '×' });
  return results;
}

/** The naive reference: order the whole vocabulary by (probability descending, id ascending). */
function fullSortTop64(row: Float32Array): Uint32Array {
  const order = new Uint32Array(row.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => row[b] - row[a] || a - b);
  return order.subarray(0, 64);
}

function makeLogits(count: number): Float32Array[] {
  const random = mulberry32(20_240_601);
  const rows: Float32Array[] = [];
  for (let r = 0; r < count; r++) {
    const logits = new Float32Array(VOCABULARY);
    for (let i = 0; i < VOCABULARY; i++) {
      // Box–Muller: Gaussian logits, like a language model's spread over a large vocabulary.
      const u = 1 - random();
      logits[i] = LOGIT_SCALE * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
    }
    rows.push(logits);
  }
  return rows;
}

function makeRows(): Float32Array[] {
  return makeLogits(ROWS).map((logits) => softmax(logits, 1, logits));
}

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const { name, value, unit } of await benchSelect()) console.log(`${name.padEnd(48)} ${String(value).padStart(10)} ${unit}`);
}
