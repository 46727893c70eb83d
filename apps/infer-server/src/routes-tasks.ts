// kd's own task endpoints: /v1/generate, /v1/code, /v1/translate (JSON, or server-sent events
// with "stream": true) and /v1/classify (a score for every label).
import { requestId, streamAnswer, usageOf, type Handler, type RequestContext } from './context.js';
import type { TaskInput } from './engine.js';
import { EventStream, sendJson } from './respond.js';
import { toSampling, type WireSampling } from './sampling.js';
import { classifyBody, codeBody, generateBody, translateBody } from './schemas.js';
import { validate } from './validate.js';

async function runTask(context: RequestContext, model: string, input: TaskInput, wire: WireSampling & { stream?: boolean }): Promise<void> {
  const id = requestId('gen');
  const sampling = toSampling(wire);
  if (!wire.stream) {
    const completion = await context.service.generate(model, input, sampling, context.signal);
    sendJson(context.response, 200, {
      id,
      object: `${input.task}.result`,
      model,
      text: completion.text,
      finish_reason: completion.finishReason,
      usage: usageOf([completion]),
    });
    return;
  }
  const events = new EventStream(context.response);
  await streamAnswer(context, events, async () => {
    const completion = await context.service.generate(model, input, sampling, context.signal, (piece) => {
      events.open();
      events.send({ id, text: piece });
    });
    events.open();
    events.send({ id, text: '', finish_reason: completion.finishReason, usage: usageOf([completion]) });
    events.end();
  });
}

export const generateRoute: Handler = async (context) => {
  const body = validate(generateBody, context.body);
  await runTask(context, body.model, { task: 'generate', prompt: body.prompt }, body);
};

export const codeRoute: Handler = async (context) => {
  const body = validate(codeBody, context.body);
  await runTask(context, body.model, { task: 'code', prompt: body.prompt, path: body.path }, body);
};

export const translateRoute: Handler = async (context) => {
  const body = validate(translateBody, context.body);
  await runTask(context, body.model, { task: 'translate', text: body.text, from: body.from, to: body.to }, body);
};

export const classifyRoute: Handler = async (context) => {
  const body = validate(classifyBody, context.body);
  const scores = await context.service.classify(body.model, body.text, body.labels, context.signal);
  let best = scores[0];
  for (const item of scores) if (item.score > best.score) best = item;
  sendJson(context.response, 200, { id: requestId('cls'), object: 'classification', model: body.model, label: best.label, scores: scores.map(({ label, score, logprob }) => ({ label, score, logprob })) });
};
