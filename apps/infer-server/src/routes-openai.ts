// The OpenAI-compatible surface: POST /v1/completions, POST /v1/chat/completions (JSON or
// server-sent events) and GET /v1/models, in the shapes the official clients parse.
import { requestId, streamAnswer, usageOf, type Handler } from './context.js';
import type { Completion } from './engine.js';
import { EventStream, sendJson } from './respond.js';
import { toSampling } from './sampling.js';
import { chatBody, completionBody, type ChatMessage } from './schemas.js';
import { validate } from './validate.js';

const now = () => Math.floor(Date.now() / 1000);

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
  const id = requestId('cmpl');
  const created = now();
  const base = { id, object: 'text_completion', created, model: body.model };
  if (!body.stream) {
    const completions = await Promise.all(prompts.map((prompt) => context.service.generate(body.model, { task: 'generate', prompt }, sampling, context.signal)));
    sendJson(context.response, 200, {
      ...base,
      choices: completions.map((completion, index) => ({ text: completion.text, index, logprobs: null, finish_reason: completion.finishReason })),
      usage: usageOf(completions),
    });
    return;
  }
  const events = new EventStream(context.response);
  await streamAnswer(context, events, async () => {
    const completions = await Promise.all(
      prompts.map((prompt, index) =>
        context.service.generate(body.model, { task: 'generate', prompt }, sampling, context.signal, (piece) => {
          events.open();
          events.send({ ...base, choices: [{ text: piece, index, logprobs: null, finish_reason: null }] });
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
  const id = requestId('chatcmpl');
  const created = now();
  const base = { id, object: 'chat.completion', created, model: body.model };
  const input = { task: 'chat' as const, messages };
  if (!body.stream) {
    const completion = await context.service.generate(body.model, input, sampling, context.signal);
    sendJson(context.response, 200, {
      ...base,
      choices: [{ index: 0, message: { role: 'assistant', content: completion.text, refusal: null }, logprobs: null, finish_reason: completion.finishReason }],
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
    const completion: Completion = await context.service.generate(body.model, input, sampling, context.signal, (piece) => {
      start();
      events.send({ ...chunk, choices: [{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }] });
    });
    start();
    events.send({ ...chunk, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: completion.finishReason }] });
    if (body.stream_options?.include_usage) events.send({ ...chunk, choices: [], usage: usageOf([completion]) });
    events.end();
  });
};
