// The server's own endpoints and its HTTP behaviour, over real sockets with real models.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJson, testServer, type TestServer } from './test-server.js';

const metric = (text: string, name: string) => {
  const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{') && l.slice(0, l.lastIndexOf(' ')) === name);
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
};
const metrics = async (url: string) => (await fetch(`${url}/metrics`)).text();

async function readSse(response: Response): Promise<any[]> {
  const text = await response.text();
  return text
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => block.slice(6))
    .filter((data) => data !== '[DONE]')
    .map((data) => JSON.parse(data));
}

describe('task endpoints', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await testServer();
  });
  afterAll(() => server.stop());

  it('generates, and streams the same text as server-sent events', async () => {
    const body = { model: 'tiny', prompt: 'We the people', max_tokens: 12, temperature: 0 };
    const plain = await postJson(`${server.url}/v1/generate`, body);
    expect(plain.status).toBe(200);
    expect(plain.json.text.length).toBeGreaterThan(0);
    expect(plain.json.usage.completion_tokens).toBeGreaterThan(0);
    const response = await fetch(`${server.url}/v1/generate`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...body, stream: true }) });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = await readSse(response);
    expect(events.map((event) => event.text).join('')).toBe(plain.json.text);
    expect(events.at(-1).finish_reason).toBe(plain.json.finish_reason);
  });

  it('answers code and translate requests', async () => {
    const code = await postJson(`${server.url}/v1/code`, { model: 'tiny', prompt: 'def add(a, b):', max_tokens: 8, temperature: 0 });
    expect(code.status).toBe(200);
    expect(typeof code.json.text).toBe('string');
    const body = { model: 'teacher', text: 'The file was saved.', from: 'English', to: 'German', max_tokens: 12, temperature: 0 };
    const translation = await postJson(`${server.url}/v1/translate`, body);
    expect(translation.status).toBe(200);
    expect(translation.json.usage.completion_tokens).toBeGreaterThan(0);
    // Streamed, the pieces add up to the same translation.
    const response = await fetch(`${server.url}/v1/translate`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...body, stream: true }) });
    const events = await readSse(response);
    expect(events.map((event) => event.text).join('')).toBe(translation.json.text);
  });

  it('classifies with a normalized score for every label', async () => {
    const result = await postJson(`${server.url}/v1/classify`, { model: 'teacher', text: 'WIN a FREE prize now, click here', labels: ['spam', 'ham'] });
    expect(result.status).toBe(200);
    expect(result.json.scores.map((s: { label: string }) => s.label).sort()).toEqual(['ham', 'spam']);
    const total = result.json.scores.reduce((sum: number, s: { score: number }) => sum + s.score, 0);
    expect(total).toBeCloseTo(1, 5);
    expect(result.json.scores.map((s: { label: string }) => s.label)).toContain(result.json.label);
  });

  it('refuses bad bodies with the field named, and unknown routes and methods', async () => {
    const missing = await postJson(`${server.url}/v1/generate`, { model: 'tiny' });
    expect(missing.status).toBe(400);
    expect(missing.json.error).toMatchObject({ code: 'E_VALIDATION', type: 'invalid_request_error' });
    expect(missing.json.error.message).toContain('prompt');
    const extra = await postJson(`${server.url}/v1/generate`, { model: 'tiny', prompt: 'x', temprature: 1 });
    expect(extra.json.error.message).toContain('temprature');
    const labels = await postJson(`${server.url}/v1/classify`, { model: 'tiny', text: 'x', labels: ['a', 'a'] });
    expect(labels.status).toBe(400);
    const path = await postJson(`${server.url}/v1/classify`, { model: '../teacher', text: 'x', labels: ['a', 'b'] });
    expect(path.status).toBe(400);
    expect((await fetch(`${server.url}/v1/nothing`)).status).toBe(404);
    const wrongMethod = await fetch(`${server.url}/v1/generate`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    const form = await fetch(`${server.url}/v1/generate`, { method: 'POST', body: 'model=tiny', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(415);
    const large = await postJson(`${server.url}/v1/generate`, { model: 'tiny', prompt: 'word '.repeat(300_000) });
    expect(large.status).toBe(413);
  });

  it('refuses a prompt longer than the limit in tokens', async () => {
    const limited = await testServer({ maxPromptTokens: 8 });
    try {
      const result = await postJson(`${limited.url}/v1/generate`, { model: 'tiny', prompt: 'one two three four five six seven eight nine ten' });
      expect(result.status).toBe(400);
      expect(result.json.error.code).toBe('E_PROMPT_TOO_LONG');
    } finally {
      await limited.stop();
    }
  });

  it('serves health, an OpenAPI document, Prometheus metrics and no CORS headers', async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(health.headers.get('access-control-allow-origin')).toBeNull();
    const openapi = (await (await fetch(`${server.url}/openapi.json`)).json()) as any;
    expect(openapi.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/v1/generate', '/v1/code', '/v1/translate', '/v1/classify', '/v1/completions', '/v1/chat/completions', '/v1/models']));
    expect(openapi.components.schemas.GenerateRequest.required).toEqual(expect.arrayContaining(['model', 'prompt']));
    const text = await metrics(server.url);
    expect(text).toContain('# TYPE kd_http_request_duration_seconds histogram');
    expect(text).toMatch(/kd_http_requests_total\{route="\/v1\/generate",status="200"\} \d+/);
    expect(text).toMatch(/kd_generated_tokens_total\{model="tiny"\} [1-9]\d*/);
    expect(text).toMatch(/kd_queue_depth\{model="tiny"\} 0/);
  });

  it('cancels the generation of a client that disconnects', async () => {
    const controller = new AbortController();
    const before = metric(await metrics(server.url), 'kd_generated_tokens_total{model="teacher"}') ?? 0;
    const response = await fetch(`${server.url}/v1/generate`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'teacher', prompt: 'Once upon a time', max_tokens: 500, temperature: 0, stream: true }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    let text = await metrics(server.url);
    while (metric(text, 'kd_http_requests_cancelled_total{route="/v1/generate"}') !== 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      text = await metrics(server.url);
    }
    expect(metric(text, 'kd_running_requests{model="teacher"}')).toBe(0);
    // A cancelled generation never completed, so none of its tokens were counted.
    expect(metric(text, 'kd_generated_tokens_total{model="teacher"}') ?? 0).toBe(before);
  });
});

describe('batching', () => {
  it('joins concurrent requests into batches whose answers equal the ones given alone', async () => {
    const server = await testServer({ maxBatch: 8 });
    try {
      const prompts = ['We the people', 'Once upon a time there was a', 'The weather', 'In the beginning God', 'A', 'The committee decided that', 'def add(a, b):', 'Hello'];
      const ask = (prompt: string) => postJson(`${server.url}/v1/generate`, { model: 'tiny', prompt, max_tokens: 24, temperature: 0 });
      const alone: string[] = [];
      for (const prompt of prompts) alone.push((await ask(prompt)).json.text);
      const before = metric(await metrics(server.url), 'kd_batch_size_count{model="tiny"}') ?? 0;
      const together = await Promise.all(prompts.map(ask));
      expect(together.map((result) => result.json.text)).toEqual(alone);
      const batches = (metric(await metrics(server.url), 'kd_batch_size_count{model="tiny"}') ?? 0) - before;
      // Eight requests arrived together: fewer than eight generations answered them.
      expect(batches).toBeLessThan(prompts.length);
    } finally {
      await server.stop();
    }
  });
});

describe('per-row cancellation', () => {
  it('stops only the row of a batched client that leaves; the other rows answer as they do alone', async () => {
    const server = await testServer({ maxBatch: 8 });
    const waitFor = async (name: string, value: number) => {
      while (metric(await metrics(server.url), name) !== value) await new Promise((resolve) => setTimeout(resolve, 20));
    };
    try {
      const prompts = ['We the people', 'Once upon a time there was a', 'In the beginning God'];
      const body = (prompt: string) => JSON.stringify({ model: 'tiny', prompt, max_tokens: 256, temperature: 0 });
      const ask = (prompt: string, signal?: AbortSignal) =>
        fetch(`${server.url}/v1/generate`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: body(prompt), signal });
      const alone: string[] = [];
      for (const prompt of prompts) alone.push(((await (await ask(prompt)).json()) as { text: string }).text);
      // A stream holds the model (streams run alone) while the three requests queue up behind it.
      const holder = new AbortController();
      const held = await fetch(`${server.url}/v1/generate`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: 'tiny', prompt: 'The', max_tokens: 512, temperature: 0, stream: true }),
        signal: holder.signal,
      });
      await held.body!.getReader().read();
      const leaving = new AbortController();
      const answers = prompts.map((prompt, i) => ask(prompt, i === 1 ? leaving.signal : undefined).then(async (response) => ((await response.json()) as { text: string }).text));
      answers[1].catch(() => undefined);
      await waitFor('kd_queue_depth{model="tiny"}', 3);
      const batchesBefore = metric(await metrics(server.url), 'kd_batch_size_count{model="tiny"}') ?? 0;
      holder.abort();
      // The three run as one batch; then the second client leaves.
      await waitFor('kd_running_requests{model="tiny"}', 3);
      leaving.abort();
      await expect(answers[1]).rejects.toThrow();
      expect(await answers[0]).toBe(alone[0]);
      expect(await answers[2]).toBe(alone[2]);
      const text = await metrics(server.url);
      expect((metric(text, 'kd_batch_size_count{model="tiny"}') ?? 0) - batchesBefore).toBe(1);
      expect(metric(text, 'kd_http_requests_cancelled_total{route="/v1/generate"}')).toBe(2);
    } finally {
      await server.stop();
    }
  });
});

describe('limits and lifecycle', () => {
  it('answers 429 with Retry-After when a model queue is full', async () => {
    const server = await testServer({ concurrency: 1, queueSize: 1, maxBatch: 1 });
    try {
      await postJson(`${server.url}/v1/generate`, { model: 'teacher', prompt: 'warm', max_tokens: 1 });
      const results = await Promise.all(Array.from({ length: 6 }, () => postJson(`${server.url}/v1/generate`, { model: 'teacher', prompt: 'Once upon a time', max_tokens: 24, temperature: 0 })));
      const refused = results.filter((result) => result.status === 429);
      expect(results.filter((result) => result.status === 200).length).toBeGreaterThanOrEqual(2);
      expect(refused.length).toBeGreaterThanOrEqual(1);
      expect(refused.length + results.filter((result) => result.status === 200).length).toBe(6);
      expect(Number(refused[0].headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(refused[0].json.error.type).toBe('rate_limit_error');
    } finally {
      await server.stop();
    }
  });

  it('times a long request out with 504', async () => {
    const server = await testServer({ requestTimeoutMs: 200 });
    try {
      const result = await postJson(`${server.url}/v1/generate`, { model: 'teacher', prompt: 'Once upon a time', max_tokens: 500, temperature: 0 });
      expect(result.status).toBe(504);
      expect(result.json.error.code).toBe('E_TIMEOUT');
    } finally {
      await server.stop();
    }
  });

  it('sends CORS headers only for the origin it was given', async () => {
    const server = await testServer({ corsOrigin: 'http://localhost:3000' });
    try {
      const allowed = await fetch(`${server.url}/v1/models`, { method: 'OPTIONS', headers: { Origin: 'http://localhost:3000' } });
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
      const other = await fetch(`${server.url}/v1/models`, { headers: { Origin: 'http://evil.example' } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await server.stop();
    }
  });

  it('finishes an in-flight request on shutdown, then refuses connections', async () => {
    const server = await testServer({ shutdownGraceMs: 60_000 });
    await postJson(`${server.url}/v1/generate`, { model: 'tiny', prompt: 'warm', max_tokens: 1 });
    const inFlight = postJson(`${server.url}/v1/generate`, { model: 'teacher', prompt: 'Once upon a time', max_tokens: 16, temperature: 0 });
    // Shut down once the model is working on the request.
    while (!/kd_running_requests\{model="teacher"\} 1/.test(await metrics(server.url))) await new Promise((resolve) => setTimeout(resolve, 10));
    const stopped = server.stop();
    const result = await inFlight;
    expect(result.status).toBe(200);
    expect(result.json.usage.completion_tokens).toBeGreaterThan(0);
    await stopped;
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });

  it('cancels what is still running when the shutdown deadline passes', async () => {
    const server = await testServer({ shutdownGraceMs: 100 });
    const inFlight = postJson(`${server.url}/v1/generate`, { model: 'teacher', prompt: 'Once upon a time', max_tokens: 500, temperature: 0 });
    while (!/kd_running_requests\{model="teacher"\} 1/.test(await metrics(server.url))) await new Promise((resolve) => setTimeout(resolve, 10));
    await server.stop();
    const result = await inFlight;
    expect(result.status).toBe(503);
    expect(result.json.error.code).toBe('E_SHUTTING_DOWN');
  });

  it('refuses requests addressed to another host name while bound to loopback', async () => {
    const server = await testServer();
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${server.url}/v1/models`, { headers: { Host: 'rebound.example:8080' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(421);
      expect((await fetch(`${server.url}/v1/models`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('keeps stack traces and paths out of responses to malformed HTTP', async () => {
    const server = await testServer();
    try {
      const raw = await new Promise<string>((resolve, reject) => {
        const req = httpRequest(`${server.url}/v1/generate`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': '5' } }, (res) => {
          let data = '';
          res.on('data', (chunk) => (data += chunk));
          res.on('end', () => resolve(data));
        });
        req.on('error', reject);
        req.end('{"a":');
      });
      expect(JSON.parse(raw).error.code).toBe('E_BAD_JSON');
      expect(raw).not.toMatch(/\/work\/|\/tmp\/|at [\w.]+ \(/);
    } finally {
      await server.stop();
    }
  });
});
