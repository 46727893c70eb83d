// Validates a command's merged options (flags + config file) with its zod schema, turning the
// first problem into one clear line that names the flag.
import type { z } from 'zod';
import { CliError } from './errors.js';

const kebab = (key: string) => key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

export function validateOptions<Schema extends z.ZodType>(schema: Schema, options: unknown): z.infer<Schema> {
  const result = schema.safeParse(options);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const flag = issue.path.length > 0 ? `--${kebab(String(issue.path[0]))}` : 'options';
  throw new CliError('E_USAGE', `${flag}: ${issue.message}`);
}
