// Hostile requests for the fuzz test and the load bench: every case is built to be refused
// (a 4xx) by a server that runs with the API key `fuzzApiKey` and the models `tiny`/`teacher`.

export const fuzzApiKey = 'fuzz-key-7d1c5e';

/** Limits the fuzzed server runs with (small, so over-limit cases stay cheap to refuse). */
export const fuzzLimits = { maxTokens: 16, maxPromptTokens: 256, bodyTimeoutMs: 300, queueSize: 4 };

export interface FuzzCase {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** A small deterministic generator (mulberry32), so a failing case can be replayed by seed. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const endpoints: Array<{ path: string; valid: Record<string, unknown> }> = [
  { path: '/v1/generate', valid: { model: 'tiny', prompt: 'We the people', max_tokens: 4 } },
  { path: '/v1/code', valid: { model: 'tiny', prompt: 'def f():', max_tokens: 4 } },
  { path: '/v1/translate', valid: { model: 'tiny', text: 'Hello', from: 'en', to: 'de', max_tokens: 4 } },
  { path: '/v1/classify', valid: { model: 'tiny', text: 'Hello', labels: ['spam', 'ham'] } },
  { path: '/v1/completions', valid: { model: 'tiny', prompt: 'We the people', max_tokens: 4 } },
  { path: '/v1/chat/completions', valid: { model: 'tiny', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 4 } },
];

// Values that no field of any body accepts in the position they are put.
const wrongValues: unknown[] = [null, true, false, -1, 0.5, 1e308, -1e308, 2 ** 53 + 2, -0.0001, 3.7, [], [[]], {}, { $gt: 1 }, ['a', 1, null], { __proto__: { admin: true } }];
const badModels = ['', 'no-such-model', '../tiny', '/etc/passwd', 'tiny/../../x', '..', '.', 'a'.repeat(500), 'tiny\u0000', 'tin y', '%2e%2e', 'C:\\\\x'];

function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)];
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

const authorized = { Authorization: `Bearer ${fuzzApiKey}`, 'Content-Type': 'application/json' };

/** One hostile request; the same seed and index always give the same case. */
export function fuzzCase(next: () => number): FuzzCase {
  const endpoint = pick(next, endpoints);
  const post = (kind: string, body: Buffer, headers: Record<string, string> = authorized): FuzzCase => ({ kind, method: 'POST', path: endpoint.path, headers, body });
  const roll = next();
  if (roll < 0.35) {
    // A valid body with one field given a value of the wrong type or out of range.
    const body: Record<string, unknown> = { ...endpoint.valid };
    const keys = Object.keys(body);
    const key = pick(next, [...keys, 'temperature', 'top_p', 'seed', 'stop', 'max_tokens']);
    let value = pick(next, wrongValues);
    if (['model', 'prompt', 'text', 'from', 'to'].includes(key) && next() < 0.2) value = '';
    if (key === 'from' || key === 'to') value = pick(next, ['', 'x'.repeat(65), 7, null, ['en']]);
    if (key === 'max_tokens') value = pick(next, [-1, 0, 0.5, 1e308, '4', null, [], {}, 2 ** 60]);
    if (key === 'seed') value = pick(next, [0.5, 1e308, '4', [], {}, 2 ** 60, true]);
    if (key === 'temperature') value = pick(next, [-0.1, 2.5, 1e308, '1', [], {}, true]);
    if (key === 'top_p') value = pick(next, [0, -1, 1.5, '0.9', [], true]);
    if (key === 'stop') value = pick(next, [['a', 'b', 'c', 'd', 'e'], [''], 5, [1], { a: 1 }, '']);
    if (key === 'model' && next() < 0.5) value = pick(next, badModels.filter((name) => name !== 'no-such-model'));
    if (key === 'labels') value = pick(next, [[], ['a'], ['a', 'a'], [''], 'spam', [1, 2], null]);
    if (key === 'messages') value = pick(next, [[], [{ role: 'root', content: 'x' }], [{ content: 'x' }], [{ role: 'user' }], 'hi', [{ role: 'user', content: 5 }]]);
    body[key] = value;
    return post('wrong-type', json(body));
  }
  if (roll < 0.45) {
    // An unknown field, a missing required field or an unknown model.
    const body: Record<string, unknown> = { ...endpoint.valid };
    const which = next();
    if (which < 0.33) body[pick(next, ['temprature', 'admin', '__proto__x', 'constructor', 'n_ctx', 'path'])] = 1;
    else if (which < 0.66) delete body[pick(next, Object.keys(body).filter((key) => key !== 'max_tokens'))];
    else body.model = pick(next, badModels);
    return post('unknown-field-or-model', json(body));
  }
  if (roll < 0.52) {
    // Limits: too many new tokens, too many labels, too many prompts.
    const body: Record<string, unknown> = { ...endpoint.valid };
    if ('labels' in body) body.labels = Array.from({ length: 65 + Math.floor(next() * 100) }, (_, i) => `l${i}`);
    else if (endpoint.path === '/v1/completions' && next() < 0.5) body.prompt = Array.from({ length: 17 }, () => 'x');
    else body.max_tokens = fuzzLimits.maxTokens + 1 + Math.floor(next() * 1e6);
    return post('over-limit', json(body));
  }
  if (roll < 0.6) {
    // Deep nesting, in a field or as the whole body.
    const depth = 33 + Math.floor(next() * 5000);
    const nested = '['.repeat(depth) + ']'.repeat(depth);
    const text = next() < 0.5 ? nested : `{"model":"tiny","prompt":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;
    return post('deep-json', Buffer.from(text));
  }
  if (roll < 0.67) {
    // Bytes that are not UTF-8 inside otherwise valid JSON.
    const bad = pick(next, [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]]);
    const body = Buffer.concat([Buffer.from(`{"model":"tiny","prompt":"a`), Buffer.from(bad), Buffer.from(`b"}`)]);
    return post('invalid-utf8', body);
  }
  if (roll < 0.74) {
    // Not JSON at all, or JSON of the wrong shape.
    const body = pick(next, ['{"model":', 'null', '[]', '"text"', '42', '{"model":"tiny",}', '{\'model\':1}', 'NaN', '{"a":1}{"b":2}', '\u0000\u0001\u0002']);
    return post('bad-json', Buffer.from(body));
  }
  if (roll < 0.78) {
    // Bodies over the size limit.
    const size = (1 << 20) + 1 + Math.floor(next() * 65_536);
    return post('oversized', Buffer.alloc(size, 0x61));
  }
  if (roll < 0.88) {
    // Missing, malformed or wrong credentials.
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    const which = pick(next, ['none', 'wrong', 'prefix', 'basic', 'empty', 'long', 'case']);
    if (which === 'wrong') headers.Authorization = 'Bearer fuzz-key-7d1c5f';
    if (which === 'prefix') headers.Authorization = `Bearer ${fuzzApiKey.slice(0, -1)}`;
    if (which === 'basic') headers.Authorization = `Basic ${Buffer.from(`user:${fuzzApiKey}`).toString('base64')}`;
    if (which === 'empty') headers.Authorization = 'Bearer ';
    if (which === 'long') headers.Authorization = `Bearer ${'k'.repeat(8000)}`;
    if (which === 'case') headers.Authorization = `Bearer ${fuzzApiKey.toUpperCase()}`;
    return post('bad-auth', json(endpoint.valid), headers);
  }
  if (roll < 0.97) {
    // Wrong content type, wrong method or unknown path.
    const which = next();
    if (which < 0.33) return post('content-type', json(endpoint.valid), { ...authorized, 'Content-Type': pick(next, ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) });
    if (which < 0.66) return { kind: 'method', method: pick(next, ['GET', 'PUT', 'DELETE', 'PATCH']), path: endpoint.path, headers: authorized };
    return { kind: 'path', method: pick(next, ['GET', 'POST']), path: pick(next, ['/v1/../etc/passwd', '/v2/generate', '/v1/generate/', '/%00', `/${'a'.repeat(2000)}`, '/v1/models/tiny', '/admin']), headers: authorized };
  }
  // Prompts past the token limit, a little (tokenized to find out) or far (refused by length).
  const body: Record<string, unknown> = { ...endpoint.valid };
  const long = 'word '.repeat(fuzzLimits.maxPromptTokens + 10 + (next() < 0.5 ? 0 : Math.floor(next() * 100_000)));
  if ('prompt' in body) body.prompt = long;
  else if ('text' in body) body.text = long;
  else body.messages = [{ role: 'user', content: long }];
  return post('prompt-too-long', json(body));
}
