// Server benchmark: closed-loop clients against a real server on 127.0.0.1, batching off
// (--max-batch 1) and on (--max-batch 8) alternated in one process; throughput, tokens/s and
// p50/p99 latency of answered requests, plus what 64 clients against a default queue get.
// Run alone with `pnpm --filter @kd/infer-server bench`, or as `pnpm bench --only server`.
import { machine, table, type SectionResult } from '../../../bench/report.js';
import { percentile, runLoad, type LoadResult } from '../src/load-clients.js';
import { startServer } from '../src/server.js';
import { modelsFolder } from '../src/test-server.js';

const prompts = ['We the people', 'Once upon a time there was a', 'The weather today is', 'In the beginning', 'def add(a, b):', 'The committee decided that the new rules'];

interface Row {
  model: string;
  batching: string;
  round: number;
  requests: number;
  requestsPerSecond: number;
  tokensPerSecond: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
}

async function measure(modelsDir: string, model: string, maxBatch: number, clients: number, requests: number, maxTokens: number, queueSize: number): Promise<LoadResult> {
  const server = await startServer({ modelsDir, port: 0, maxBatch, queueSize, concurrency: 1 });
  try {
    // Load the model and warm the session before timing.
    await runLoad({ url: server.url, clients: 1, requests: 2, body: () => ({ model, prompt: 'warm up', max_tokens: 4 }) });
    return await runLoad({
      url: server.url,
      clients,
      requests,
      body: (index) => ({ model, prompt: prompts[index % prompts.length], max_tokens: maxTokens, temperature: 0 }),
    });
  } finally {
    await server.close();
  }
}

const row = (model: string, batching: string, round: number, result: LoadResult): Row => ({
  model,
  batching,
  round,
  requests: result.latencies.length,
  requestsPerSecond: result.latencies.length / result.seconds,
  tokensPerSecond: result.completionTokens / result.seconds,
  p50: percentile(result.latencies, 50),
  p99: percentile(result.latencies, 99),
  statuses: Object.fromEntries(result.statuses),
});

export async function benchServerSection(options: { rounds?: number; clients?: number; requests?: number; maxTokens?: number } = {}): Promise<Omit<SectionResult, 'command'>> {
  const { rounds = 2, clients = 16, requests = 48, maxTokens = 32 } = options;
  const folder = await modelsFolder();
  const rows: Row[] = [];
  try {
    // The teacher recomputes the whole sequence every step: fewer requests keep its runs short.
    for (const [model, count] of [['tiny', requests], ['teacher', Math.max(clients, requests / 3)]] as const) {
      for (let round = 1; round <= rounds; round++) {
        for (const [label, maxBatch] of [['off (max-batch 1)', 1], ['on (max-batch 8)', 8]] as const) {
          const result = await measure(folder.dir, model, maxBatch, clients, count, maxTokens, 256);
          rows.push(row(model, label, round, result));
          process.stderr.write(`server ${model} batching ${label} round ${round}: ${rows.at(-1)!.requestsPerSecond.toFixed(2)} req/s\n`);
        }
      }
    }
    const overload = await measure(folder.dir, 'tiny', 8, 64, 640, maxTokens, 32);
    const overloadRow = row('tiny', 'on (max-batch 8), 64 clients, queue 32', 1, overload);

    const ratio = (model: string) => {
      const mean = (label: string) => {
        const chosen = rows.filter((r) => r.model === model && r.batching.startsWith(label));
        return chosen.reduce((sum, r) => sum + r.requestsPerSecond, 0) / chosen.length;
      };
      return mean('on') / mean('off');
    };
    const format = (value: number, digits = 1) => value.toFixed(digits);
    const markdown = [
      `${clients} closed-loop clients each send their next \`POST /v1/generate\` (greedy, \`max_tokens\` ${maxTokens}, six prompts of 3–8 words in turn) as soon as the last is answered, ${requests} requests per run on tiny-llama-with-past and ${Math.max(clients, requests / 3)} on teacher-llama-13m, one generation or batch at a time per model (\`--concurrency 1\`), a queue (256) long enough that none is refused. Batching joins the queued requests with the same options into one \`generateBatch\` call (left-padded rows, each stopping on its own). Runs alternate off/on in one process; latency is per answered request, queueing included. The machine was shared with other work while this ran, so compare the ratios, not the absolute figures.`,
      '',
      table(
        ['model', 'batching', 'round', 'requests/s', 'tokens/s', 'p50 ms', 'p99 ms'],
        rows.map((r) => [r.model, r.batching, r.round, format(r.requestsPerSecond, 2), format(r.tokensPerSecond), format(r.p50, 0), format(r.p99, 0)]),
      ),
      '',
      `Throughput with batching relative to without (mean of the rounds): tiny-llama-with-past (KV cache) ${format(ratio('tiny'), 2)}×, teacher-llama-13m (no cache, every step recomputes the sequence) ${format(ratio('teacher'), 2)}×.`,
      '',
      `Overload: 64 clients, 640 requests, the default queue of 32 on \`tiny\`: ${Object.entries(overloadRow.statuses).map(([status, count]) => `${count} × ${status}`).join(', ')}; answered requests ${format(overloadRow.requestsPerSecond, 2)}/s, p50 ${format(overloadRow.p50, 0)} ms, p99 ${format(overloadRow.p99, 0)} ms; peak resident memory of the process (server and clients) ${format(overload.peakRss / 2 ** 20, 0)} MiB.`,
    ].join('\n');
    return { title: 'Server', date: new Date().toISOString().slice(0, 10), machine: machine(), markdown, data: { rows, overload: overloadRow, batchingRatio: { tiny: ratio('tiny'), teacher: ratio('teacher') } } };
  } finally {
    await folder.remove();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const section = await benchServerSection();
  process.stdout.write(`${section.markdown}\n`);
}
