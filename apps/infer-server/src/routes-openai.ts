// The OpenAI-compatible surface: POST /v1/completions, POST /v1/chat/completions (JSON or
// server-sent events) and GET /v1/models, in the shapes the official clients parse.
import { requestId, streamAnswer, usageOf, type Handler } from './context.js';
import type { Completion, TokenLogprobs } from './engine.js';
import { EventStream, sendJson } from './respond.js';
import { toSampling } from './sampling.js';
import { chatBody, completionBody, type ChatMessage } from './schemas.js';
import { validate } from './validate.js';

const now = () => Math.floor(Date.now() / 1000);

/**
 * The legacy completions shape: tokens, their log-probabilities, a {token: logprob} map of the
 * alternatives per step and each token's character offset in the completion's text (counted from
 * `offset`, where the previous chunk of a stream ended).
 */
function completionLogprobs(entries: TokenLogprobs[] | undefined, offset = 0) {
  if (!entries) return null;
  const textOffset: number[] = [];
  let at = offset;
  for (const entry of entries) {
    textOffset.push(at);
    at += entry.token.length;
  }
  return {
    tokens: entries.map((entry) => entry.token),
    token_logprobs: entries.map((entry) => entry.logprob),
    top_logprobs: entries.map((entry) => {
      const alternatives: Record<string, number> = {};
      // Two alternatives with the same text keep the likelier one's figure.
      for (const top of entry.top) if (!(top.token in alternatives)) alternatives[top.token] = top.logprob;
      return alternatives;
    }),
    text_offset: textOffset,
  };
}

/** The chat shape: one {token, logprob, bytes, top_logprobs} per token. */
function chatLogprobs(entries: TokenLogprobs[] | undefined) {
  if (!entries) return null;
  return {
    content: entries.map((entry) => ({ token: entry.token, logprob: entry.logprob, bytes: entry.bytes, top_logprobs: entry.top.map((top) => ({ token: top.token, logprob: top.logprob, bytes: top.bytes })) })),
    refusal: null,
  };
}

/** Characters of a stream's tokens so far, per choice, for text_offset. */
function offsetAfter(entries: TokenLogprobs[] | undefined, offset: number): number {
  let at = offset;
  for (const entry of entries ?? []) at += entry.token.length;
  return at;
}

export const modelsRoute: Handler = async (context) => {
  const models = await context.registry.list();
  sendJson(context.response, 200, {
    object: 'list',
    data: models.map((model) => ({ id: model.name, object: 'model', created: model.created, owned_by: 'kd', loaded: model.loaded })),
  });
};

export const completionsRoute: Handler = async (context) => {
  const body = validate(completionBody, context.body);
  const prompts = typeof body.prompt === 'string' ? [body.prompt] : body.prompt;
  // OpenAI's default temperature is 1.
  const sampling = toSampling(body, { temperature: 1 });
  if (body.logprobs != null) sampling.topLogprobs = body.logprobs;
  const id = requestId('cmpl');
  const created = now();
  const base = { id, object: 'text_completion', created, model: body.model };
  if (!body.stream) {
    const completions = await Promise.all(prompts.map((prompt) => context.service.generate(body.model, { task: 'generate', prompt }, sampling, context.signal)));
    sendJson(context.response, 200, {
      ...base,
      choices: completions.map((completion, index) => ({ text: completion.text, index, logprobs: completionLogprobs(completion.logprobs), finish_reason: completion.finishReason })),
      usage: usageOf(completions),
    });
    return;
  }
  const events = new EventStream(context.response);
  const offsets = prompts.map(() => 0);
  await streamAnswer(context, events, async () => {
    const completions = await Promise.all(
      prompts.map((prompt, index) =>
        context.service.generate(body.model, { task: 'generate', prompt }, sampling, context.signal, (piece, logprobs) => {
          events.open();
          events.send({ ...base, choices: [{ text: piece, index, logprobs: completionLogprobs(logprobs, offsets[index]), finish_reason: null }] });
          offsets[index] = offsetAfter(logprobs, offsets[index]);
        }),
      ),
    );
    events.open();
    completions.forEach((completion, index) =>
      events.send({ ...base, choices: [{ text: '', index, logprobs: null, finish_reason: completion.finishReason }] }),
    );
    if (body.stream_options?.include_usage) events.send({ ...base, choices: [], usage: usageOf(completions) });
    events.end();
  });
};

function textOf(message: ChatMessage): string {
  return typeof message.content === 'string' ? message.content : message.content.map((part) => part.text).join('');
}

export const chatRoute: Handler = async (context) => {
  const body = validate(chatBody, context.body);
  const messages = body.messages.map((message) => ({ role: message.role === 'developer' ? 'system' : message.role, content: textOf(message) }));
  const sampling = toSampling({ ...body, max_tokens: body.max_completion_tokens ?? body.max_tokens }, { temperature: 1 });
  if (body.logprobs === true) sampling.topLogprobs = body.top_logprobs ?? 0;
  const id = requestId('chatcmpl');
  const created = now();
  const base = { id, object: 'chat.completion', created, model: body.model };
  const input = { task: 'chat' as const, messages };
  if (!body.stream) {
    const completion = await context.service.generate(body.model, input, sampling, context.signal);
    sendJson(context.response, 200, {
      ...base,
      choices: [{ index: 0, message: { role: 'assistant', content: completion.text, refusal: null }, logprobs: chatLogprobs(completion.logprobs), finish_reason: completion.finishReason }],
      usage: usageOf([completion]),
    });
    return;
  }
  const events = new EventStream(context.response);
  const chunk = { ...base, object: 'chat.completion.chunk' };
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    events.open();
    events.send({ ...chunk, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] });
  };
  await streamAnswer(context, events, async () => {
    const completion: Completion = await context.service.generate(body.model, input, sampling, context.signal, (piece, logprobs) => {
      start();
      events.send({ ...chunk, choices: [{ index: 0, delta: { content: piece }, logprobs: chatLogprobs(logprobs), finish_reason: null }] });
    });
    start();
    events.send({ ...chunk, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: completion.finishReason }] });
    if (body.stream_options?.include_usage) events.send({ ...chunk, choices: [], usage: usageOf([completion]) });
    events.end();
  });
};
