// Prometheus metrics in the text exposition format (version 0.0.4), kept in plain maps: the
// few series a server operator watches (requests, latency, tokens, queue depth) need no client
// library.

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const batchBuckets = [1, 2, 4, 8, 16, 32];

class Histogram {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly buckets: number[]) {
    this.counts = new Float64Array(buckets.length);
  }
  observe(value: number): void {
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) this.counts[i]++;
  }
}

function labels(pairs: Record<string, string>): string {
  const parts = Object.entries(pairs).map(([key, value]) => `${key}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, Histogram>();
  private readonly completionTokens = new Map<string, number>();
  private readonly promptTokens = new Map<string, number>();
  private readonly queueDepth = new Map<string, number>();
  private readonly running = new Map<string, number>();
  private readonly batches = new Map<string, Histogram>();
  private readonly cancelled = new Map<string, number>();
  private inFlight = 0;

  requestStarted(): void {
    this.inFlight++;
  }

  /** One finished request: its route (a known path, or "other"), status and duration. */
  requestFinished(route: string, status: number, seconds: number): void {
    this.inFlight--;
    const key = `${route}\u0000${status}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    let histogram = this.latency.get(route);
    if (!histogram) this.latency.set(route, (histogram = new Histogram(latencyBuckets)));
    histogram.observe(seconds);
  }

  /** A request whose client left before the answer was complete. */
  requestCancelled(route: string): void {
    this.cancelled.set(route, (this.cancelled.get(route) ?? 0) + 1);
  }

  tokens(model: string, prompt: number, completion: number): void {
    this.promptTokens.set(model, (this.promptTokens.get(model) ?? 0) + prompt);
    this.completionTokens.set(model, (this.completionTokens.get(model) ?? 0) + completion);
  }

  queue(model: string, waiting: number, running: number): void {
    this.queueDepth.set(model, waiting);
    this.running.set(model, running);
  }

  batch(model: string, size: number): void {
    let histogram = this.batches.get(model);
    if (!histogram) this.batches.set(model, (histogram = new Histogram(batchBuckets)));
    histogram.observe(size);
  }

  render(): string {
    const out: string[] = [];
    const counter = (name: string, help: string, type: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    counter('kd_http_requests_total', 'HTTP requests answered, by route and status.', 'counter');
    for (const [key, value] of this.requests) {
      const [route, status] = key.split('\u0000');
      out.push(`kd_http_requests_total${labels({ route, status })} ${value}`);
    }
    counter('kd_http_request_duration_seconds', 'Time from request to the end of the response, by route.', 'histogram');
    for (const [route, histogram] of this.latency) histogramLines(out, 'kd_http_request_duration_seconds', { route }, histogram);
    counter('kd_http_requests_in_flight', 'Requests being answered now.', 'gauge');
    out.push(`kd_http_requests_in_flight ${this.inFlight}`);
    counter('kd_http_requests_cancelled_total', 'Requests whose client left before the answer was complete, by route.', 'counter');
    for (const [route, value] of this.cancelled) out.push(`kd_http_requests_cancelled_total${labels({ route })} ${value}`);
    counter('kd_prompt_tokens_total', 'Prompt tokens read, by model.', 'counter');
    for (const [model, value] of this.promptTokens) out.push(`kd_prompt_tokens_total${labels({ model })} ${value}`);
    counter('kd_generated_tokens_total', 'Tokens generated, by model.', 'counter');
    for (const [model, value] of this.completionTokens) out.push(`kd_generated_tokens_total${labels({ model })} ${value}`);
    counter('kd_queue_depth', 'Requests waiting for a model.', 'gauge');
    for (const [model, value] of this.queueDepth) out.push(`kd_queue_depth${labels({ model })} ${value}`);
    counter('kd_running_requests', 'Requests a model is working on.', 'gauge');
    for (const [model, value] of this.running) out.push(`kd_running_requests${labels({ model })} ${value}`);
    counter('kd_batch_size', 'Requests joined into one batched generation.', 'histogram');
    for (const [model, histogram] of this.batches) histogramLines(out, 'kd_batch_size', { model }, histogram);
    const memory = process.memoryUsage();
    counter('process_resident_memory_bytes', 'Resident memory of the server process.', 'gauge');
    out.push(`process_resident_memory_bytes ${memory.rss}`);
    counter('nodejs_heap_used_bytes', 'V8 heap in use.', 'gauge');
    out.push(`nodejs_heap_used_bytes ${memory.heapUsed}`);
    return `${out.join('\n')}\n`;
  }
}

function histogramLines(out: string[], name: string, base: Record<string, string>, histogram: Histogram): void {
  histogram.buckets.forEach((bound, i) => out.push(`${name}_bucket${labels({ ...base, le: String(bound) })} ${histogram.counts[i]}`));
  out.push(`${name}_bucket${labels({ ...base, le: '+Inf' })} ${histogram.count}`);
  out.push(`${name}_sum${labels(base)} ${histogram.sum}`);
  out.push(`${name}_count${labels(base)} ${histogram.count}`);
}
