// 64 concurrent clients against one model with a small queue: every request is answered
// (200) or turned away (429), nothing else, and memory stays bounded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad } from './load-clients.js';
import { testServer, type TestServer } from './test-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await testServer({ queueSize: 8, maxBatch: 8 });
});
afterAll(() => server.stop());

describe('load', () => {
  it('answers 64 concurrent clients with 200 or 429 only, in bounded memory', async () => {
    const prompts = ['We the people', 'Once upon a time', 'The weather', 'In the beginning'];
    const before = process.memoryUsage().rss;
    const result = await runLoad({
      url: server.url,
      clients: 64,
      requests: 640,
      body: (index) => ({ model: 'tiny', prompt: prompts[index % prompts.length], max_tokens: 8, temperature: 0 }),
    });
    expect([...result.statuses.keys()].sort()).toEqual([200, 429]);
    expect([...result.statuses.values()].reduce((a, b) => a + b, 0)).toBe(640);
    expect(result.completionTokens).toBeGreaterThan(0);
    expect(result.peakRss - before).toBeLessThan(256 * 1024 * 1024);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/kd_queue_depth\{model="tiny"\} 0/);
    expect(metrics).toMatch(/kd_http_requests_total\{route="\/v1\/generate",status="429"\} [1-9]/);
  }, 600_000);
});
