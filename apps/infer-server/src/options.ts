// The server's options: one zod schema is the truth for defaults, limits and the CLI flags
// derived from it (cli.ts turns each key into --kebab-case).
import { z } from 'zod';

export const serverOptionsSchema = z
  .object({
    modelsDir: z.string().min(1).describe('folder whose subfolders are the models, each named after its folder'),
    host: z.string().min(1).default('127.0.0.1').describe('interface to bind; 127.0.0.1 keeps the server local'),
    port: z.number().int().min(0).max(65535).default(8080).describe('TCP port (0 picks a free one)'),
    apiKey: z.string().min(1).optional().describe('bearer token every /v1 request and /metrics must send'),
    corsOrigin: z.string().min(1).optional().describe('origin allowed by CORS (default: CORS off)'),
    maxBodyBytes: z.number().int().positive().default(1 << 20).describe('largest request body in bytes'),
    maxJsonDepth: z.number().int().positive().default(32).describe('deepest nesting of a JSON body'),
    maxPromptTokens: z.number().int().positive().default(2048).describe('longest prompt in tokens'),
    maxTokens: z.number().int().positive().default(512).describe('most new tokens one request may ask for'),
    defaultMaxTokens: z.number().int().positive().default(64).describe('new tokens when a request names none'),
    requestTimeoutMs: z.number().int().positive().default(60_000).describe('a request still running after this long is cancelled'),
    bodyTimeoutMs: z.number().int().positive().default(10_000).describe('a body not fully received after this long is refused'),
    concurrency: z.number().int().positive().default(1).describe('generations running at once per model'),
    queueSize: z.number().int().nonnegative().default(32).describe('requests waiting per model before 429'),
    maxBatch: z.number().int().positive().default(8).describe('most queued requests joined into one batched generation'),
    shutdownGraceMs: z.number().int().nonnegative().default(10_000).describe('how long shutdown waits for in-flight requests'),
    threads: z.number().int().positive().optional().describe('onnxruntime threads per model'),
  })
  .strict();

export type ServerOptionsInput = z.input<typeof serverOptionsSchema>;
export type ServerOptions = z.output<typeof serverOptionsSchema>;
