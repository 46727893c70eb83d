// Starts one of the trainer's worker threads: the built module beside this one, or, running
// from source (tests, tsx), the TypeScript file through tsx's loader (a development dependency
// of the repository), which the worker registers before it imports itself.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** The worker `name` (a module of src/, without extension) with `workerData`. */
export function startTrainerWorker(name: string, workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, import.meta.url), { workerData });
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve('tsx/package.json');
  const manifest = require(manifestPath) as { exports: Record<string, { import: { default: string } }> };
  const loader = pathToFileURL(join(dirname(manifestPath), manifest.exports['./esm/api'].import.default)).href;
  const entry = new URL(`./${name}.ts`, import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(loader)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}
