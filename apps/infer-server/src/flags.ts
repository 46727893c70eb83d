// Command-line flags derived from the server's option schema: each key becomes --kebab-case,
// numbers are parsed as numbers, and the help text is the schema's descriptions.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ServerError } from './errors.js';
import { serverOptionsSchema, type ServerOptionsInput } from './options.js';

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

interface Flag {
  key: string;
  flag: string;
  numeric: boolean;
  description: string;
  defaultValue: unknown;
}

function unwrap(schema: z.ZodType): { inner: z.ZodType; defaultValue: unknown } {
  let inner = schema;
  let defaultValue: unknown;
  for (;;) {
    if (inner instanceof z.ZodDefault) {
      defaultValue = inner.def.defaultValue;
      inner = inner.def.innerType as z.ZodType;
    } else if (inner instanceof z.ZodOptional) inner = inner.def.innerType as z.ZodType;
    else return { inner, defaultValue };
  }
}

export const flags: Flag[] = Object.entries(serverOptionsSchema.shape).map(([key, schema]) => {
  const { inner, defaultValue } = unwrap(schema as z.ZodType);
  return { key, flag: kebab(key), numeric: inner instanceof z.ZodNumber, description: (schema as z.ZodType).description ?? '', defaultValue };
});

export function helpText(): string {
  const lines = flags.map((f) => `  --${f.flag.padEnd(20)} ${f.description}${f.defaultValue !== undefined ? ` (default ${f.defaultValue})` : ''}`);
  return [
    'Usage: infer-server --models-dir DIR [--host 127.0.0.1] [--port 8080] [options]',
    '',
    'Serves every subfolder of DIR as a model named after it: kd generate/code/translate/classify',
    'endpoints, OpenAI-compatible /v1/completions and /v1/chat/completions, a playground at /.',
    '',
    'Options:',
    ...lines,
    '  --help                 print this help',
    '',
    'Environment: KD_API_KEY sets --api-key (the flag wins).',
    '',
    'Example:',
    '  infer-server --models-dir ./models --port 8080',
    '  curl -s http://127.0.0.1:8080/v1/models',
  ].join('\n');
}

/** Options from argv (and KD_API_KEY); `help` when --help was asked for. */
export function parseFlags(argv: string[], env: NodeJS.ProcessEnv = process.env): { help: true } | { help: false; options: ServerOptionsInput } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...Object.fromEntries(flags.map((f) => [f.flag, { type: 'string' as const }])), help: { type: 'boolean' as const, short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
  } catch (cause) {
    throw new ServerError('E_OPTIONS', `${(cause as Error).message} (infer-server --help lists the flags)`);
  }
  if (parsed.values.help) return { help: true };
  const options: Record<string, unknown> = {};
  if (env.KD_API_KEY) options.apiKey = env.KD_API_KEY;
  for (const f of flags) {
    const value = (parsed.values as Record<string, unknown>)[f.flag];
    if (typeof value !== 'string') continue;
    if (f.numeric) {
      const number = Number(value);
      if (value.trim() === '' || !Number.isFinite(number)) throw new ServerError('E_OPTIONS', `--${f.flag} takes a number, got ${JSON.stringify(value)}`);
      options[f.key] = number;
    } else options[f.key] = value;
  }
  if (options.modelsDir === undefined) throw new ServerError('E_OPTIONS', '--models-dir DIR is required: a folder with one subfolder per model');
  const checked = serverOptionsSchema.safeParse(options);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const flag = flags.find((f) => f.key === issue?.path[0]);
    throw new ServerError('E_OPTIONS', `${flag ? `--${flag.flag}` : 'options'}: ${issue?.message}`);
  }
  return { help: false, options: options as ServerOptionsInput };
}
