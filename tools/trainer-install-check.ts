// What tools/package-check.ts runs on @kd/trainer's packed install besides the common checks:
// a two-step training run with `engine: 'auto'` from ESM and from CommonJS (no onnxruntime-node
// there, so the tensorflow engine, on the wasm backend whose .wasm files the bundled dist loads
// from its own folder), then the same runs with a stand-in for @tensorflow/tfjs-node, which
// cannot be installed here (it downloads libtensorflow): a package of that name that registers
// tfjs-backend-cpu's kernels as a backend named `tensorflow` through its own copy of tfjs-core,
// as tfjs-node does. `auto` must find that backend from the trainer's bundled copy.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type Run = (command: string, args: string[], cwd: string) => { ok: boolean; output: string };

interface RunSummary {
  engine: string;
  backend: string;
  steps: number;
}

function trainingScript(root: string, format: 'esm' | 'cjs', out: string): string {
  const options = {
    corpus: join(root, 'examples', 'corpus', 'sample.jsonl'),
    tokenizer: join(root, 'examples', 'student-tokenizer', 'tokenizer.json'),
    model: { hiddenSize: 32, intermediateSize: 64, layers: 1, heads: 2, maxPositions: 64 },
    steps: 2,
    batchSize: 2,
    sequenceLength: 16,
    warmupSteps: 1,
    engine: 'auto',
    backend: 'auto',
    out,
  };
  const imports =
    format === 'esm'
      ? "import { train } from '@kd/trainer';\n"
      : "const { train } = require('@kd/trainer');\n";
  const body = `const result = await train(${JSON.stringify(options)});
console.log(JSON.stringify({ engine: result.engine.name, backend: result.backend.name, steps: result.step }));`;
  return format === 'esm' ? `${imports}${body}\n` : `${imports}(async () => {\n${body}\n})();\n`;
}

function trainBoth(folder: string, root: string, run: Run, phase: string): { summaries: string[]; failures: string[]; results: RunSummary[] } {
  const summaries: string[] = [];
  const failures: string[] = [];
  const results: RunSummary[] = [];
  for (const [format, file] of [['esm', 'train-run.mjs'], ['cjs', 'train-run.cjs']] as const) {
    // The runs write inside the consumer folder, which package-check removes (unless --keep).
    writeFileSync(join(folder, file), trainingScript(root, format, join(folder, 'runs', `${phase}-${format}`)));
    const trained = run('node', [file], folder);
    const line = trained.output.split('\n').find((text) => text.startsWith('{"engine"'));
    if (!trained.ok || !line) {
      failures.push(`${format}: training failed: ${trained.output.trim().split('\n').slice(-2).join(' / ')}`);
      continue;
    }
    const summary = JSON.parse(line) as RunSummary;
    results.push(summary);
    summaries.push(`${format.toUpperCase()} ${summary.engine} engine on ${summary.backend}`);
  }
  return { summaries, failures, results };
}

const standIn = `// Stands in for @tensorflow/tfjs-node in tools/trainer-install-check.ts: the cpu backend's
// kernels registered as the backend \`tensorflow\`, through this install's own tfjs-core.
const tf = require('@tensorflow/tfjs-core');
const cpu = require('@tensorflow/tfjs-backend-cpu');
tf.registerBackend('tensorflow', () => new cpu.MathBackendCPU(), 3);
for (const kernel of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...kernel, backendName: 'tensorflow' });
`;

/** Runs after the measurements (the stand-in adds packages to the install). Returns notes; `ok` false when a run did not do what `auto` should. */
export function checkTrainerInstall(folder: string, root: string, tfjsRange: string, run: Run): { ok: boolean; notes: string[] } {
  const notes: string[] = [];
  let ok = true;
  const alone = trainBoth(folder, root, run, 'alone');
  ok &&= alone.failures.length === 0 && alone.results.every((result) => result.engine === 'tensorflow' && result.backend === 'wasm' && result.steps === 2);
  notes.push(`trains with engine auto: ${[...alone.summaries, ...alone.failures].join(', ')}`);

  const installed = run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', `@tensorflow/tfjs-core@${tfjsRange}`, `@tensorflow/tfjs-backend-cpu@${tfjsRange}`], folder);
  if (!installed.ok) return { ok: false, notes: [...notes, `installing the tfjs-node stand-in's tfjs-core failed: ${installed.output.trim().split('\n').pop()}`] };
  const standInFolder = join(folder, 'node_modules', '@tensorflow', 'tfjs-node');
  mkdirSync(standInFolder, { recursive: true });
  writeFileSync(join(standInFolder, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-node', version: '0.0.0-stand-in', main: 'index.js' }));
  writeFileSync(join(standInFolder, 'index.js'), standIn);
  const native = trainBoth(folder, root, run, 'stand-in');
  ok &&= native.failures.length === 0 && native.results.every((result) => result.engine === 'tensorflow' && result.backend === 'tensorflow' && result.steps === 2);
  notes.push(`with a tfjs-node stand-in (its own tfjs-core): ${[...native.summaries, ...native.failures].join(', ')}`);
  return { ok, notes };
}
