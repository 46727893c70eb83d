// The official openai client against a real server: completions, chat, streaming, errors.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServer, type TestServer } from './test-server.js';

let server: TestServer;
let client: OpenAI;
const apiKey = 'test-key-0123456789';

beforeAll(async () => {
  server = await testServer({ apiKey });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0 });
});
afterAll(() => server.stop());

describe('openai client', () => {
  it('lists the models folder', async () => {
    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).toEqual(['teacher', 'tiny']);
  });

  it('completes a prompt greedily, the same answer twice, and counts tokens', async () => {
    const ask = () => client.completions.create({ model: 'tiny', prompt: 'We the people', max_tokens: 12, temperature: 0 });
    const first = await ask();
    const second = await ask();
    expect(first.object).toBe('text_completion');
    expect(first.choices[0].text.length).toBeGreaterThan(0);
    expect(second.choices[0].text).toBe(first.choices[0].text);
    expect(first.usage?.completion_tokens).toBeGreaterThan(0);
    expect(first.usage?.completion_tokens).toBeLessThanOrEqual(12);
    expect(first.usage?.total_tokens).toBe((first.usage?.prompt_tokens ?? 0) + (first.usage?.completion_tokens ?? 0));
  });

  it('answers several prompts as one choice each', async () => {
    const result = await client.completions.create({ model: 'tiny', prompt: ['We the people', 'Once upon a time'], max_tokens: 6, temperature: 0 });
    expect(result.choices.map((choice) => choice.index)).toEqual([0, 1]);
    const single = await client.completions.create({ model: 'tiny', prompt: 'Once upon a time', max_tokens: 6, temperature: 0 });
    expect(result.choices[1].text).toBe(single.choices[0].text);
  });

  it('reproduces a sampled answer with the same seed', async () => {
    const ask = (seed: number) => client.completions.create({ model: 'tiny', prompt: 'The', max_tokens: 16, temperature: 1, top_p: 0.95, seed });
    expect((await ask(7)).choices[0].text).toBe((await ask(7)).choices[0].text);
  });

  it('stops before a stop sequence', async () => {
    const free = await client.completions.create({ model: 'tiny', prompt: 'We the people', max_tokens: 12, temperature: 0 });
    const text = free.choices[0].text;
    const word = text.trim().split(/\s+/)[1];
    const stopped = await client.completions.create({ model: 'tiny', prompt: 'We the people', max_tokens: 12, temperature: 0, stop: [word] });
    expect(stopped.choices[0].finish_reason).toBe('stop');
    expect(stopped.choices[0].text).toBe(text.slice(0, text.indexOf(word)));
  });

  it('streams a completion whose pieces add up to the whole answer', async () => {
    const whole = await client.completions.create({ model: 'tiny', prompt: 'We the people', max_tokens: 10, temperature: 0 });
    const stream = await client.completions.create({ model: 'tiny', prompt: 'We the people', max_tokens: 10, temperature: 0, stream: true });
    let text = '';
    let pieces = 0;
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      pieces++;
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(pieces).toBeGreaterThan(2);
    expect(text).toBe(whole.choices[0].text);
    expect(finish).toBe(whole.choices[0].finish_reason);
  });

  it('chats, without and with streaming, and reports usage in the stream when asked', async () => {
    const messages = [
      { role: 'system' as const, content: 'You answer briefly.' },
      { role: 'user' as const, content: 'Name a colour.' },
    ];
    const chat = await client.chat.completions.create({ model: 'teacher', messages, max_tokens: 8, temperature: 0 });
    expect(chat.object).toBe('chat.completion');
    expect(chat.choices[0].message.role).toBe('assistant');
    const content = chat.choices[0].message.content ?? '';
    const stream = await client.chat.completions.create({ model: 'teacher', messages, max_tokens: 8, temperature: 0, stream: true, stream_options: { include_usage: true } });
    let streamed = '';
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      streamed += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(streamed).toBe(content);
    expect(usage?.completion_tokens).toBe(chat.usage?.completion_tokens);
  });

  it('returns completion logprobs in the legacy shape, streamed and not, alternatives most likely first', async () => {
    const result = await client.completions.create({ model: 'tiny', prompt: 'We the people', max_tokens: 8, temperature: 0, logprobs: 3 });
    const logprobs = result.choices[0].logprobs!;
    const tokens = logprobs.tokens!;
    expect(tokens).toHaveLength(result.usage!.completion_tokens);
    expect(tokens.join('')).toBe(result.choices[0].text);
    expect(logprobs.token_logprobs!.every((value) => value <= 0)).toBe(true);
    logprobs.top_logprobs!.forEach((alternatives, i) => {
      const values = Object.values(alternatives);
      expect(values.length).toBeGreaterThan(0);
      expect(values.length).toBeLessThanOrEqual(3);
      // Greedy: the chosen token is the most likely one.
      expect(alternatives[tokens[i]]).toBe(logprobs.token_logprobs![i]);
      expect(Math.max(...values)).toBe(logprobs.token_logprobs![i]);
    });
    expect(logprobs.text_offset![0]).toBe(0);
    const stream = await client.completions.create({ model: 'tiny', prompt: 'We the people', max_tokens: 8, temperature: 0, logprobs: 3, stream: true });
    const streamedTokens: string[] = [];
    const streamedLogprobs: number[] = [];
    const offsets: number[] = [];
    for await (const chunk of stream) {
      const part = chunk.choices[0]?.logprobs;
      streamedTokens.push(...(part?.tokens ?? []));
      streamedLogprobs.push(...(part?.token_logprobs ?? []));
      offsets.push(...(part?.text_offset ?? []));
    }
    expect(streamedTokens).toEqual(tokens);
    expect(streamedLogprobs).toEqual(logprobs.token_logprobs);
    expect(offsets).toEqual(logprobs.text_offset);
    const plain = await client.completions.create({ model: 'tiny', prompt: 'We the people', max_tokens: 2, temperature: 0 });
    expect(plain.choices[0].logprobs).toBeNull();
  });

  it('returns chat logprobs with bytes and top_logprobs, streamed and not', async () => {
    const messages = [{ role: 'user' as const, content: 'Name a colour.' }];
    const chat = await client.chat.completions.create({ model: 'teacher', messages, max_tokens: 6, temperature: 0, logprobs: true, top_logprobs: 2 });
    const content = chat.choices[0].logprobs!.content!;
    expect(content).toHaveLength(chat.usage!.completion_tokens);
    for (const entry of content) {
      expect(entry.logprob).toBeLessThanOrEqual(0);
      expect(Buffer.from(entry.bytes!).toString('utf8')).toBe(entry.token);
      expect(entry.top_logprobs).toHaveLength(2);
      expect(entry.top_logprobs[0]).toMatchObject({ token: entry.token, logprob: entry.logprob });
    }
    const stream = await client.chat.completions.create({ model: 'teacher', messages, max_tokens: 6, temperature: 0, logprobs: true, top_logprobs: 2, stream: true });
    const streamed: OpenAI.Chat.ChatCompletionTokenLogprob[] = [];
    for await (const chunk of stream) streamed.push(...(chunk.choices[0]?.logprobs?.content ?? []));
    expect(streamed).toEqual(content);
    const sampled = await client.chat.completions.create({ model: 'teacher', messages, max_tokens: 6, seed: 3, logprobs: true });
    expect(sampled.choices[0].logprobs!.content!.every((entry) => entry.top_logprobs.length === 0)).toBe(true);
  });

  it('refuses logprobs values out of range, naming the field', async () => {
    const refused = async (create: () => Promise<unknown>) => (await create().catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    const messages = [{ role: 'user' as const, content: 'Hi' }];
    const cases = [
      [await refused(() => client.completions.create({ model: 'tiny', prompt: 'x', logprobs: 6 })), 'logprobs'],
      [await refused(() => client.chat.completions.create({ model: 'tiny', messages, logprobs: true, top_logprobs: 21 })), 'top_logprobs'],
      [await refused(() => client.chat.completions.create({ model: 'tiny', messages, top_logprobs: 2 })), 'top_logprobs'],
    ] as const;
    for (const [error, field] of cases) {
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error.code).toBe('E_VALIDATION');
      expect(error.message).toMatch(new RegExp(`^400 ${field}: `));
    }
  });

  it('surfaces errors as APIError with status, code and type', async () => {
    const error = (await client.completions.create({ model: 'no-such-model', prompt: 'x' }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error.code).toBe('E_MODEL_NOT_FOUND');
    expect(error.type).toBe('not_found_error');

    const invalid = (await client.completions.create({ model: 'tiny', prompt: 'x', temperature: 5 }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(invalid).toBeInstanceOf(OpenAI.BadRequestError);
    expect(invalid.message).toContain('temperature');

    const tooMany = (await client.completions.create({ model: 'tiny', prompt: 'x', max_tokens: 100_000 }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(tooMany).toBeInstanceOf(OpenAI.BadRequestError);
    expect(tooMany.message).toContain('max_tokens');

    const stranger = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'wrong-key', maxRetries: 0 });
    const denied = await stranger.models.list().catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(OpenAI.AuthenticationError);
  });
});
