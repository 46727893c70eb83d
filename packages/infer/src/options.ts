// The options of loadModel and of every generation call: one zod schema each (the truth for
// defaults, ranges and messages), checked where a call enters the library.
import { z } from 'zod';
import { InferError } from './errors.js';
import { maxTopLogprobs } from './token-logprobs.js';

export const promptOverflowModes = ['error', 'truncate-left'] as const;
export type PromptOverflow = (typeof promptOverflowModes)[number];

export const loadModelOptionsSchema = z
  .object({
    /** onnxruntime intra-op threads (default 2). */
    threads: z.number().int().positive().max(256).default(2),
    /** Use the graph's KV cache when it has one (default true); false recomputes every step. */
    useCache: z.boolean().default(true),
    /**
     * Compute logits only at the positions a call uses (default true): the graph is rewritten at
     * load so that the output projection runs on the last position while generating. False runs
     * the graph exactly as exported.
     */
    sliceLogits: z.boolean().default(true),
    /** A prompt longer than the context: refuse it ('error', default) or drop its oldest tokens ('truncate-left'). */
    promptOverflow: z.enum(promptOverflowModes).default('error'),
    /** Longest sequence (prompt + new tokens); default config.json max_position_embeddings, else 2048. */
    contextLength: z.number().int().positive().optional(),
    /** Say once on load when the model has no KV cache (default: a line through console.warn). */
    onNotice: z.custom<(message: string) => void>((value) => typeof value === 'function').optional(),
  })
  .strict();
export type LoadModelOptions = z.input<typeof loadModelOptionsSchema>;
export type LoadModelSettings = z.output<typeof loadModelOptionsSchema>;

const stopSchema = z.union([z.string().min(1), z.array(z.string().min(1))]);

export const generateOptionsSchema = z
  .object({
    /** Tokens to add at most (default: generation_config.json max_new_tokens, else 128). */
    maxNewTokens: z.number().int().nonnegative().optional(),
    /** Tokens before which end-of-text is blocked (default 0). */
    minNewTokens: z.number().int().nonnegative().optional(),
    /** Softmax temperature; 0 means greedy (default: generation_config.json, else 0). */
    temperature: z.number().nonnegative().finite().optional(),
    /** Keep the k most likely tokens (0 = off). */
    topK: z.number().int().nonnegative().optional(),
    /** Keep the most likely tokens holding this much probability (1 = off). */
    topP: z.number().gt(0).max(1).optional(),
    /** Drop tokens less likely than minP × the most likely one (0 = off). */
    minP: z.number().min(0).max(1).optional(),
    /** Divides positive and multiplies negative logits of tokens already seen (1 = off). */
    repetitionPenalty: z.number().positive().finite().optional(),
    /** Text that ends generation; it is not part of the result. */
    stop: stopSchema.optional(),
    /** Seed of the sampler: the same seed, prompt and options give the same tokens. */
    seed: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
    signal: z.custom<AbortSignal>((value) => value instanceof AbortSignal).optional(),
    /** Overrides the model's promptOverflow for this call. */
    promptOverflow: z.enum(promptOverflowModes).optional(),
    /** Return the log-probability of each new token (result.logprobs), from the softmax the sampler draws from. */
    logprobs: z.boolean().optional(),
    /** Also list this many most likely tokens at each step (0–20; implies logprobs). */
    topLogprobs: z.number().int().min(0).max(maxTopLogprobs).optional(),
  })
  .strict();
export type GenerateOptions = z.input<typeof generateOptionsSchema>;

export const generateBatchOptionsSchema = generateOptionsSchema
  .extend({
    /**
     * One signal per prompt (undefined: none): a row whose signal fires stops alone and comes back
     * with finishReason 'cancelled' and what it had generated; the other rows go on unchanged.
     * `signal` still cancels the whole batch.
     */
    signals: z.array(z.custom<AbortSignal>((value) => value instanceof AbortSignal).optional()).optional(),
  })
  .strict();
export type GenerateBatchOptions = z.input<typeof generateBatchOptionsSchema>;

/** Parses options with a schema; a failure names the option and what it must be. */
export function parseOptions<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path.join('.') || what;
  throw new InferError('E_OPTIONS', `${what}: ${path}: ${issue?.message}`);
}
