// Request bodies of every endpoint, as zod schemas: the one declaration of what a client may
// send, used to validate and to write the OpenAPI document. Wire names are snake_case, as the
// OpenAI API spells them; handlers turn them into @kd/infer's camelCase options.
import { z } from 'zod';

export const modelName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a model name: letters, digits, ".", "_" or "-"')
  .describe('a model listed by GET /v1/models');

const text = z.string().min(1, 'must not be empty');
/** OpenAI's caps: the legacy completions endpoint lists up to 5 alternatives a step, chat up to 20. */
const maxCompletionLogprobs = 5;
const maxChatTopLogprobs = 20;
const stop = z
  .union([z.string().min(1), z.array(z.string().min(1)).max(4)])
  .nullable()
  .optional()
  .describe('up to 4 sequences that end the answer (not included in it)');

/** Sampling options shared by the native generation endpoints. */
const sampling = {
  max_tokens: z.number().int().min(1).max(1_000_000).optional().describe('new tokens at most'),
  temperature: z.number().min(0).max(2).optional().describe('0 is greedy'),
  top_k: z.number().int().min(0).max(100_000).optional().describe('keep the k most likely tokens (0: all)'),
  top_p: z.number().gt(0).max(1).optional().describe('keep the fewest tokens whose probability sums to p'),
  min_p: z.number().min(0).max(1).optional().describe('drop tokens less likely than min_p × the most likely'),
  repetition_penalty: z.number().gt(0).max(10).optional().describe('> 1 discourages repeating tokens'),
  stop,
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional().describe('same seed, same answer'),
  stream: z.boolean().optional().describe('answer as server-sent events'),
};

export const generateBody = z.strictObject({ model: modelName, prompt: text, ...sampling });
export const codeBody = z.strictObject({
  model: modelName,
  prompt: text.describe('the beginning of the code to continue'),
  path: z.string().min(1).max(256).optional().describe('a file path: the prompt becomes the code template, as in training'),
  ...sampling,
});
export const translateBody = z.strictObject({
  model: modelName,
  text,
  from: z.string().min(1).max(64).describe('source language, e.g. "en" or "English"'),
  to: z.string().min(1).max(64).describe('target language'),
  ...sampling,
});
export const classifyBody = z.strictObject({
  model: modelName,
  text,
  labels: z
    .array(z.string().min(1).max(256))
    .min(2)
    .max(64)
    .refine((labels) => new Set(labels).size === labels.length, 'labels must be distinct')
    .describe('the candidate labels; every one gets a score'),
});

// OpenAI parameters kd has no use for: accepted at their neutral value so clients that always
// send them work, refused otherwise with a message naming the parameter.
const neutral = {
  n: z.literal(1).optional().describe('only 1 is supported'),
  best_of: z.literal(1).optional(),
  presence_penalty: z.literal(0).optional().describe('only 0 is supported; see repetition_penalty'),
  frequency_penalty: z.literal(0).optional().describe('only 0 is supported; see repetition_penalty'),
  logit_bias: z.record(z.string(), z.number()).refine((bias) => Object.keys(bias).length === 0, 'logit_bias is not supported').nullable().optional(),
  user: z.string().max(256).optional(),
  stream_options: z.strictObject({ include_usage: z.boolean().optional() }).nullable().optional(),
};

const openaiSampling = {
  max_tokens: sampling.max_tokens,
  temperature: sampling.temperature.describe('0 is greedy; default 1'),
  top_p: sampling.top_p,
  top_k: sampling.top_k,
  min_p: sampling.min_p,
  repetition_penalty: sampling.repetition_penalty,
  stop,
  seed: z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER).nullable().optional(),
  stream: z.boolean().nullable().optional(),
};

export const completionBody = z.strictObject({
  model: modelName,
  prompt: z.union([text, z.array(text).min(1).max(16)]).describe('a prompt, or several answered as one choice each'),
  ...openaiSampling,
  ...neutral,
  logprobs: z.number().int().min(0).max(maxCompletionLogprobs).nullable().optional().describe(`log-probability of each generated token, with the n most likely tokens at each step (0–${maxCompletionLogprobs})`),
  echo: z.literal(false).optional(),
  suffix: z.null().optional(),
});

const contentPart = z.strictObject({ type: z.literal('text'), text: z.string() });
const message = z.strictObject({
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  content: z.union([z.string(), z.array(contentPart).max(64)]),
  name: z.string().max(64).optional(),
});

export const chatBody = z.strictObject({
  model: modelName,
  messages: z.array(message).min(1).max(256),
  ...openaiSampling,
  max_completion_tokens: sampling.max_tokens,
  ...neutral,
  logprobs: z.boolean().nullable().optional().describe('log-probability of each generated token'),
  top_logprobs: z.number().int().min(0).max(maxChatTopLogprobs).nullable().optional().describe(`the n most likely tokens at each step (0–${maxChatTopLogprobs}); needs "logprobs": true`),
}).refine((body) => body.top_logprobs == null || body.logprobs === true, { path: ['top_logprobs'], message: 'needs "logprobs": true' });

export type GenerateBody = z.infer<typeof generateBody>;
export type CodeBody = z.infer<typeof codeBody>;
export type TranslateBody = z.infer<typeof translateBody>;
export type ClassifyBody = z.infer<typeof classifyBody>;
export type CompletionBody = z.infer<typeof completionBody>;
export type ChatBody = z.infer<typeof chatBody>;
export type ChatMessage = z.infer<typeof message>;
