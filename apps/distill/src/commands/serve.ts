// `kd serve`: the infer-server of @kd/infer-server under kd, with the same options (its flags
// derive from the server's option schema) and the same shutdown on Ctrl-C or SIGTERM.
import type { Command } from 'commander';
import { z } from 'zod';
import { serve, serverOptionsSchema } from '@kd/infer-server';
import { defineCommand } from '../define-command.js';

export function serveCommand(): Command {
  return defineCommand({
    name: 'serve',
    description: 'Serve every model folder of a directory over HTTP: generate, code, translate, classify, OpenAI-compatible completions and chat, a playground page',
    library: serverOptionsSchema,
    own: z.object({}).strict(),
    // The key comes from the environment when no flag or config file gives one, so it stays out of the process list.
    fallbacks: { apiKey: { shown: '$KD_API_KEY', value: () => process.env.KD_API_KEY || undefined } },
    examples: [
      'kd serve --models-dir ./models --port 8080',
      'curl -s http://127.0.0.1:8080/v1/generate -H "Content-Type: application/json" -d \'{"model": "student", "prompt": "Once upon a time"}\'',
    ],
    run: (options) => serve(options),
  });
}
