// Closed-loop load: `clients` concurrent clients, each sending its next request as soon as the
// previous one is answered, until `requests` have been sent. Used by the load test and the
// server benchmark.
import { Agent, request as httpRequest } from 'node:http';

export interface LoadOptions {
  url: string;
  clients: number;
  requests: number;
  /** Body of the i-th request to POST /v1/generate. */
  body(index: number): unknown;
  headers?: Record<string, string>;
}

export interface LoadResult {
  statuses: Map<number, number>;
  /** Latency of each 200 answer, milliseconds, ascending. */
  latencies: Float64Array;
  completionTokens: number;
  seconds: number;
  peakRss: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.clients });
  const statuses = new Map<number, number>();
  const latencies: number[] = [];
  let completionTokens = 0;
  let issued = 0;
  let peakRss = process.memoryUsage().rss;
  const target = new URL('/v1/generate', options.url);
  const one = (index: number) =>
    new Promise<void>((resolve, reject) => {
      const started = performance.now();
      const body = JSON.stringify(options.body(index));
      const req = httpRequest(target, { method: 'POST', agent, headers: { 'Content-Type': 'application/json', ...options.headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status === 200) {
            latencies.push(performance.now() - started);
            completionTokens += JSON.parse(Buffer.concat(chunks).toString('utf8')).usage.completion_tokens;
          }
          peakRss = Math.max(peakRss, process.memoryUsage().rss);
          resolve();
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: options.clients }, async () => {
      while (issued < options.requests) await one(issued++);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { statuses, latencies: Float64Array.from(latencies).sort(), completionTokens, seconds, peakRss };
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
