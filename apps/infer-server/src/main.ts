// Running the server from a command line: flags → options, start, log one line per event,
// shut down gracefully on SIGINT/SIGTERM. `main` is the infer-server bin; `serve` is what
// `kd serve` calls with options it parsed itself.
import { stat } from 'node:fs/promises';
import { ServerError } from './errors.js';
import { flags, helpText, parseFlags } from './flags.js';
import type { ServerOptionsInput } from './options.js';
import { startServer } from './server.js';

const stderrLine = (line: string) => process.stderr.write(`${line}\n`);

/** Starts the server and resolves once it has stopped after SIGINT or SIGTERM. Errors at start are thrown. */
export async function serve(options: ServerOptionsInput, out: (line: string) => void = stderrLine): Promise<void> {
  const info = await stat(options.modelsDir).catch(() => undefined);
  if (!info?.isDirectory()) throw new ServerError('E_OPTIONS', `\`modelsDir\` ${options.modelsDir}: not a folder; pass a folder with one subfolder per model`);
  const server = await startServer(options, (line) => out(`infer-server: ${line}`));
  out(`infer-server: listening on ${server.url} (playground ${server.url}/, models from ${server.options.modelsDir}${server.options.apiKey ? ', API key required' : ''})`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      out(`infer-server: ${signal}: finishing in-flight requests (at most ${server.options.shutdownGraceMs} ms)`);
      server.close().then(resolve, resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  out('infer-server: stopped');
}

export async function main(argv: string[], out: (line: string) => void = stderrLine): Promise<number> {
  try {
    const parsed = parseFlags(argv);
    if (parsed.help) {
      process.stdout.write(`${helpText()}\n`);
      return 0;
    }
    await serve(parsed.options, out);
    return 0;
  } catch (error) {
    const text = error instanceof ServerError ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
    // Messages quote option names (`modelsDir`); on the command line they are flags.
    const message = text.replace(/`(\w+)`/g, (quoted, key: string) => {
      const flag = flags.find((entry) => entry.key === key);
      return flag ? `--${flag.flag}` : quoted;
    });
    out(`infer-server: ${message}`);
    return 1;
  }
}
