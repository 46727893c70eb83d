// The OpenAPI 3.1 document at GET /openapi.json. Request schemas come from the zod schemas
// the server validates with, so the document cannot drift from what is accepted.
import { z } from 'zod';
import { chatBody, classifyBody, codeBody, completionBody, generateBody, translateBody } from './schemas.js';

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'type'],
      properties: { code: { type: 'string', example: 'E_VALIDATION' }, message: { type: 'string' }, type: { type: 'string', example: 'invalid_request_error' } },
    },
  },
};

const errors = {
  '400': { description: 'invalid body', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
  '401': { description: 'missing or wrong API key' },
  '404': { description: 'unknown model' },
  '413': { description: 'body too large' },
  '429': { description: 'the model\'s queue is full; see Retry-After' },
  '504': { description: 'request timeout' },
};

function post(summary: string, schema: string, streams: boolean) {
  return {
    post: {
      summary,
      security: [{ bearer: [] }, {}],
      requestBody: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } } },
      responses: {
        '200': {
          description: streams ? 'the answer as JSON, or with "stream": true as server-sent events ending in "data: [DONE]"' : 'the answer',
          content: { 'application/json': { schema: { type: 'object' } }, ...(streams ? { 'text/event-stream': { schema: { type: 'string' } } } : {}) },
        },
        ...errors,
      },
    },
  };
}

const jsonSchema = (schema: z.ZodType) => {
  const { $schema, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  void $schema;
  return rest;
};

export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'kd infer-server', version: '0.1.0', description: 'Text generation, code, translation and classification with kd students; OpenAI-compatible completions and chat.' },
    paths: {
      '/v1/generate': post('Continue a prompt', 'GenerateRequest', true),
      '/v1/code': post('Generate code', 'CodeRequest', true),
      '/v1/translate': post('Translate text', 'TranslateRequest', true),
      '/v1/classify': post('Score every label for a text', 'ClassifyRequest', false),
      '/v1/completions': post('OpenAI-compatible text completion', 'CompletionRequest', true),
      '/v1/chat/completions': post('OpenAI-compatible chat completion', 'ChatCompletionRequest', true),
      '/v1/models': { get: { summary: 'The models this server offers (OpenAI list shape)', responses: { '200': { description: 'models' } } } },
      '/healthz': { get: { summary: 'Liveness: 200 while serving, 503 while shutting down', security: [], responses: { '200': { description: 'ok' } } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text exposition format' } } } },
      '/': { get: { summary: 'The playground page', security: [], responses: { '200': { description: 'HTML' } } } },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'required when the server runs with KD_API_KEY' } },
      schemas: {
        Error: errorSchema,
        GenerateRequest: jsonSchema(generateBody),
        CodeRequest: jsonSchema(codeBody),
        TranslateRequest: jsonSchema(translateBody),
        ClassifyRequest: jsonSchema(classifyBody),
        CompletionRequest: jsonSchema(completionBody),
        ChatCompletionRequest: jsonSchema(chatBody),
      },
    },
  };
}
