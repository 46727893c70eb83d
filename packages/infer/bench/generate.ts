// Speed of @kd/infer beside transformers.js on the same ONNX folders, in one process with the
// two alternated round by round (medians): tokens/s for 128 new tokens at batch 1 with and
// without the KV cache, batch-8 throughput, and time to first token for a 256-token prompt.
// Run alone: npx tsx packages/infer/bench/generate.ts [--rounds 3]
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { loadModel, type Model } from '../src/index.js';

const shared = fileURLToPath(new URL('../../../../shared/', import.meta.url));
export const benchFolders = {
  'tiny-llama-with-past': join(shared, 'fixtures/tiny-llama-with-past'),
  'teacher-llama-13m': join(shared, 'fixtures/teacher-llama-13m'),
};

export interface SpeedRow {
  folder: string;
  measure: string;
  implementation: string;
  /** Median over rounds. */
  value: number;
  unit: string;
  rounds: number[];
  /** Why the implementation could not run this measure. */
  failure?: string;
}

export interface SpeedOptions {
  rounds?: number;
  threads?: number;
  newTokens?: number;
  log?: (line: string) => void;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** transformers.js reads onnx/model.onnx: a folder of links for fixtures that keep model.onnx at the top. */
async function onnxCommunityLayout(dir: string, root: string): Promise<string> {
  const out = join(root, basename(dir));
  await mkdir(join(out, 'onnx'), { recursive: true });
  for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) {
    if (existsSync(join(dir, file))) await symlink(join(dir, file), join(out, file));
  }
  await symlink(existsSync(join(dir, 'onnx', 'model.onnx')) ? join(dir, 'onnx', 'model.onnx') : join(dir, 'model.onnx'), join(out, 'onnx', 'model.onnx'));
  return out;
}

interface TransformersModel {
  generate(inputs: Record<string, unknown>): Promise<{ data: BigInt64Array; dims: number[] }>;
  dispose(): Promise<unknown>;
}

async function loadTransformers(dir: string, threads: number): Promise<{ model: TransformersModel; Tensor: new (type: string, data: BigInt64Array, dims: number[]) => unknown }> {
  const transformers = await import('@huggingface/transformers');
  transformers.env.allowRemoteModels = false;
  transformers.env.localModelPath = join(dir, '..') + '/';
  const model = (await transformers.AutoModelForCausalLM.from_pretrained(basename(dir), {
    dtype: 'fp32',
    session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
  } as never)) as unknown as TransformersModel;
  return { model, Tensor: transformers.Tensor as never };
}

/** Left-padded int64 ids and mask for transformers.js. */
function padded(Tensor: new (type: string, data: BigInt64Array, dims: number[]) => unknown, rows: number[][], padId: number) {
  const width = Math.max(...rows.map((row) => row.length));
  const ids = new BigInt64Array(rows.length * width).fill(BigInt(padId));
  const mask = new BigInt64Array(rows.length * width);
  rows.forEach((row, b) => {
    const pad = width - row.length;
    row.forEach((id, t) => {
      ids[b * width + pad + t] = BigInt(id);
      mask[b * width + pad + t] = 1n;
    });
  });
  return { input_ids: new Tensor('int64', ids, [rows.length, width]), attention_mask: new Tensor('int64', mask, [rows.length, width]) };
}

/**
 * The floor for per-token cost: a bare onnxruntime-node loop (greedy, cache fed back, no
 * tokenizer, no options) written for exactly this graph.
 */
async function bareLoop(session: InferenceSession, prompt: number[], newTokens: number, layers: string[], heads: number, headDim: number, vocab: number): Promise<number> {
  const start = performance.now();
  let ids = prompt.map(BigInt);
  let total = 0;
  let feedsPast: Record<string, OrtTensor> = {};
  for (const name of layers) feedsPast[name] = new OrtTensor('float32', new Float32Array(0), [1, heads, 0, headDim]);
  for (let step = 0; step < newTokens; step++) {
    const sequence = ids.length;
    const outputs = await session.run({
      input_ids: new OrtTensor('int64', BigInt64Array.from(ids), [1, sequence]),
      attention_mask: new OrtTensor('int64', new BigInt64Array(total + sequence).fill(1n), [1, total + sequence]),
      position_ids: new OrtTensor('int64', BigInt64Array.from({ length: sequence }, (_, i) => BigInt(total + i)), [1, sequence]),
      ...feedsPast,
    });
    const logits = outputs.logits.data as Float32Array;
    const offset = (sequence - 1) * vocab;
    let best = 0;
    for (let v = 1; v < vocab; v++) if (logits[offset + v] > logits[offset + best]) best = v;
    total += sequence;
    ids = [BigInt(best)];
    const next: Record<string, OrtTensor> = {};
    for (const name of layers) next[name] = outputs[name.replace('past_key_values', 'present')] as OrtTensor;
    feedsPast = next;
  }
  return newTokens / ((performance.now() - start) / 1000);
}

const batchPrompts = [
  'We the people',
  'The Congress of the United States shall',
  'Call me Ishmael. Some years ago, never mind how long precisely',
  'import os',
  'Translate English to German.\nEnglish: File not found\nGerman:',
  'Classify the email as spam or ham.\nSubject: meeting tomorrow',
  'It is a truth universally acknowledged',
  'Fellow citizens of the Senate and of the House of Representatives',
];

export interface SpeedResult {
  rows: SpeedRow[];
  /** 1-minute load average at the start and the end of the run. */
  load: [number, number];
}

export async function benchGenerateSpeed(options: SpeedOptions = {}): Promise<SpeedResult> {
  const loadAtStart = loadavg()[0];
  const rounds = options.rounds ?? 3;
  const threads = options.threads ?? 2;
  const newTokens = options.newTokens ?? 128;
  const log = options.log ?? (() => undefined);
  const rows: SpeedRow[] = [];
  const sessions: InferenceSession[] = [];
  const links = await mkdtemp(join(tmpdir(), 'kd-infer-bench-'));
  try {
    for (const [name, dir] of Object.entries(benchFolders)) {
      const cached = await loadModel(dir, { threads, onNotice: () => undefined });
      const recomputing = cached.usesCache ? await loadModel(dir, { threads, useCache: false }) : undefined;
      // The graph as exported (full logits at every position), to show what slicing them saves.
      const unsliced = await loadModel(dir, { threads, sliceLogits: false, onNotice: () => undefined });
      const unslicedRecompute = cached.usesCache ? await loadModel(dir, { threads, sliceLogits: false, useCache: false }) : unsliced;
      const { model: reference, Tensor } = await loadTransformers(await onnxCommunityLayout(dir, links), threads);
      const eos = cached.endOfTextIds[0] ?? 0;
      const promptIds = async (model: Model, text: string) => Array.from((await model.tokenizer.frame(text, { eos: false })).ids);
      const single = await promptIds(cached, batchPrompts[0]);
      const batch = await Promise.all(batchPrompts.map((prompt) => promptIds(cached, prompt)));
      const longText = (await cached.tokenizer.decode((await cached.tokenizer.encode('We the People of the United States, in Order to form a more perfect Union, establish Justice, insure domestic Tranquility, provide for the common defence, promote the general Welfare. '.repeat(12))).ids.slice(0, 255)));
      const long = await promptIds(cached, longText);
      const options = { maxNewTokens: newTokens, minNewTokens: newTokens };
      // transformers.js feeds only the new token after the first step unless told the graph has no cache.
      const noCache = cached.usesCache ? {} : { use_cache: false };
      const reference1 = { max_new_tokens: newTokens, min_new_tokens: newTokens, do_sample: false, ...noCache };
      const timed = async (run: () => Promise<unknown>) => {
        const start = performance.now();
        await run();
        return (performance.now() - start) / 1000;
      };
      const measures: Array<{ measure: string; implementation: string; unit: string; rounds?: number; run: () => Promise<number> }> = [];
      const kdCache = cached.usesCache ? 'with KV cache' : 'full recompute (no cache in graph)';
      measures.push({ measure: `batch 1, ${newTokens} new tokens`, implementation: `@kd/infer, ${kdCache}`, unit: 'tokens/s', run: async () => newTokens / (await timed(() => cached.generate(batchPrompts[0], options))) });
      if (recomputing) {
        measures.push({ measure: `batch 1, ${newTokens} new tokens`, implementation: '@kd/infer, useCache: false (full recompute)', unit: 'tokens/s', run: async () => newTokens / (await timed(() => recomputing.generate(batchPrompts[0], options))) });
        measures.push({
          measure: `batch 1, ${newTokens} new tokens`,
          implementation: '@kd/infer, useCache: false, sliceLogits: false',
          unit: 'tokens/s',
          run: async () => newTokens / (await timed(() => unslicedRecompute.generate(batchPrompts[0], options))),
        });
      } else {
        measures.push({
          measure: `batch 1, ${newTokens} new tokens`,
          implementation: '@kd/infer, full recompute, sliceLogits: false',
          unit: 'tokens/s',
          rounds: 1,
          run: async () => newTokens / (await timed(() => unsliced.generate(batchPrompts[0], options))),
        });
      }
      measures.push({
        measure: `batch 1, ${newTokens} new tokens`,
        implementation: 'transformers.js 4.3',
        unit: 'tokens/s',
        run: async () => newTokens / (await timed(() => reference.generate({ ...padded(Tensor, [single], eos), ...reference1 }))),
      });
      if (cached.usesCache) {
        const modelPath = existsSync(join(dir, 'onnx', 'model.onnx')) ? join(dir, 'onnx', 'model.onnx') : join(dir, 'model.onnx');
        const bare = await InferenceSession.create(modelPath, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
        const cacheInputs = bare.inputNames.filter((input) => input.startsWith('past_key_values'));
        const shape = (bare.inputMetadata.find((input) => input.name === cacheInputs[0]) as { shape: readonly (number | string)[] }).shape;
        sessions.push(bare);
        measures.push({
          measure: `batch 1, ${newTokens} new tokens`,
          implementation: 'bare onnxruntime-node loop (the floor)',
          unit: 'tokens/s',
          run: () => bareLoop(bare, single, newTokens, cacheInputs, Number(shape[1]), Number(shape[3]), cached.vocabSize),
        });
      }
      if (cached.usesCache) measures.push({ measure: `batch 8, ${newTokens} new tokens each`, implementation: `@kd/infer, ${kdCache}`, unit: 'tokens/s', run: async () => (8 * newTokens) / (await timed(() => cached.generateBatch(batchPrompts, options))) });
      if (cached.usesCache) measures.push({
        measure: `batch 8, ${newTokens} new tokens each`,
        implementation: 'transformers.js 4.3',
        unit: 'tokens/s',
        run: async () => (8 * newTokens) / (await timed(() => reference.generate({ ...padded(Tensor, batch, eos), ...reference1 }))),
      });
      measures.push({ measure: `time to first token, ${long.length}-token prompt`, implementation: '@kd/infer', unit: 'ms', run: async () => 1000 * (await timed(() => cached.generate(longText, { maxNewTokens: 1 }))) });
      measures.push({ measure: `time to first token, ${long.length}-token prompt`, implementation: '@kd/infer, sliceLogits: false', unit: 'ms', run: async () => 1000 * (await timed(() => unsliced.generate(longText, { maxNewTokens: 1 }))) });
      measures.push({
        measure: `time to first token, ${long.length}-token prompt`,
        implementation: 'transformers.js 4.3',
        unit: 'ms',
        run: async () => 1000 * (await timed(() => reference.generate({ ...padded(Tensor, [long], eos), max_new_tokens: 1, do_sample: false, ...noCache }))),
      });
      // One warm-up run each (an implementation that fails is reported as failing), then the
      // rounds alternate the implementations.
      const failures = new Map<number, string>();
      for (let i = 0; i < measures.length; i++) {
        if (measures[i].rounds === 1) continue;
        await measures[i].run().catch((error: Error) => failures.set(i, error.message.split('\n')[0].slice(0, 120)));
      }
      const values = measures.map(() => [] as number[]);
      for (let round = 0; round < rounds; round++) {
        for (let i = 0; i < measures.length; i++) {
          if (failures.has(i) || round >= (measures[i].rounds ?? rounds)) continue;
          try {
            values[i].push(await measures[i].run());
          } catch (error) {
            failures.set(i, (error as Error).message.split('\n')[0].slice(0, 120));
            continue;
          }
          log(`${name} · ${measures[i].measure} · ${measures[i].implementation}: ${values[i].at(-1)!.toFixed(1)} ${measures[i].unit}`);
        }
      }
      measures.forEach((entry, i) =>
        rows.push({ folder: name, measure: entry.measure, implementation: entry.implementation, value: failures.has(i) ? NaN : median(values[i]), unit: entry.unit, rounds: values[i], failure: failures.get(i) }),
      );
      await cached.dispose();
      await recomputing?.dispose();
      await unsliced.dispose();
      if (unslicedRecompute !== unsliced) await unslicedRecompute.dispose();
      await reference.dispose();
      for (const session of sessions.splice(0)) await session.release();
    }
  } finally {
    await rm(links, { recursive: true, force: true });
  }
  return { rows, load: [loadAtStart, loadavg()[0]] };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { rounds: { type: 'string' }, threads: { type: 'string' } } });
  const { rows, load } = await benchGenerateSpeed({ rounds: Number(values.rounds ?? 3), threads: Number(values.threads ?? 2), log: (line) => process.stderr.write(`${line}\n`) });
  console.log(`load average ${load[0].toFixed(1)} → ${load[1].toFixed(1)}`);
  for (const row of rows) console.log(`${row.folder}\t${row.measure}\t${row.implementation}\t${row.value.toFixed(1)} ${row.unit}`);
}
