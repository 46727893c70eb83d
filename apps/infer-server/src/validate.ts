// Validation at the edge: a zod schema's first complaint becomes a 400 that names the field.
import type { z } from 'zod';
import { ServerError } from './errors.js';

export function validate<Schema extends z.ZodType>(schema: Schema, value: unknown): z.output<Schema> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ServerError('E_VALIDATION', 'the body must be a JSON object');
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : 'body';
  const message = issue?.code === 'unrecognized_keys' ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => JSON.stringify(key.slice(0, 64))).join(', ')}` : (issue?.message ?? 'invalid');
  throw new ServerError('E_VALIDATION', `${where}: ${message}`.slice(0, 300));
}
