// Running the server from a command line: flags → options, start, log one line per event,
// shut down gracefully on SIGINT/SIGTERM. Shared by the infer-server bin and `kd serve`.
import { stat } from 'node:fs/promises';
import { ServerError } from './errors.js';
import { helpText, parseFlags } from './flags.js';
import { startServer } from './server.js';

export async function main(argv: string[], out: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<number> {
  let server;
  try {
    const parsed = parseFlags(argv);
    if (parsed.help) {
      process.stdout.write(`${helpText()}\n`);
      return 0;
    }
    const info = await stat(parsed.options.modelsDir).catch(() => undefined);
    if (!info?.isDirectory()) throw new ServerError('E_OPTIONS', `--models-dir ${parsed.options.modelsDir}: not a folder`);
    server = await startServer(parsed.options, (line) => out(`infer-server: ${line}`));
  } catch (error) {
    const message = error instanceof ServerError ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
    out(`infer-server: ${message}`);
    return 1;
  }
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
  return 0;
}
