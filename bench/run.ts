// `pnpm bench [--only a,b] [--distill-… budget flags]`: runs the benchmarks on the shared teacher and corpus and rewrites
// docs/BENCHMARKS.md. Each section measures against a baseline in the same run.
import { parseArgs } from 'node:util';
import { loadResults, repoRoot, saveResults, sharedDir, type SectionResult } from './report.js';

type Section = () => Promise<Omit<SectionResult, 'command'>>;

const teacherDir = `${sharedDir}fixtures/teacher-llama-13m`;
const devCorpus = `${sharedDir}corpus/dev.jsonl`;
/** dev.jsonl labelled with adaptive p=0.95: kept by the `modes` section for the `align` section. */
const devLabels = `${repoRoot}out/bench/dev-labels`;

async function labelDev(): Promise<void> {
  const { labelCorpus } = await import('@kd/pipeline');
  const summary = await labelCorpus({ teacher: teacherDir, corpus: devCorpus, out: devLabels, compression: { mode: 'adaptive', p: 0.95, kMin: 1, kMax: 64 } });
  process.stderr.write(`labelled ${summary.documents} documents (${summary.tokens} tokens) → ${devLabels}\n`);
}

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    // The distillation-quality budget: every n-th training record, optimizer steps, eval sizes.
    'distill-every': { type: 'string', default: '60' },
    'distill-steps': { type: 'string', default: '80' },
    'distill-eval-documents': { type: 'string', default: '4' },
    'distill-eval-kl-documents': { type: 'string', default: '1' },
    'distill-eval-examples': { type: 'string', default: '60' },
    'distill-rows': { type: 'string' },
    'distill-rows-per-part': { type: 'string', default: '8192' },
  },
});
const distillFlags = (['distill-every', 'distill-steps', 'distill-eval-documents', 'distill-eval-kl-documents', 'distill-eval-examples', 'distill-rows', 'distill-rows-per-part'] as const)
  .filter((flag) => values[flag] !== undefined)
  .map((flag) => ` --${flag} ${values[flag]}`)
  .join('');
const count = (flag: 'distill-every' | 'distill-steps' | 'distill-eval-documents' | 'distill-eval-kl-documents' | 'distill-eval-examples' | 'distill-rows-per-part'): number => {
  const value = Number(values[flag]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${flag} must be a positive integer; got ${values[flag]}`);
  return value;
};

const sections: Record<string, Section> = {
  modes: async () => (await import('./label-modes.js')).benchLabelModes({ teacherDir, corpusPath: devCorpus, klDocumentsPerTask: 8, keep: { setting: 'adaptive p=0.95', dir: devLabels } }),
  throughput: async () => (await import('./throughput.js')).benchThroughput({ teacherDir, corpusPath: devCorpus }),
  codec: async () => (await import('./codec.js')).benchCodecSection(),
  select: async () => (await import('./select.js')).benchSelectSection(),
  align: async () => (await import('./align.js')).benchAlignSection(devLabels, labelDev),
  train: async () => (await import('./train.js')).benchTrainSection(),
  parity: async () => (await import('./train.js')).benchParitySection(),
  server: async () => (await import('../apps/infer-server/bench/server.js')).benchServerSection(),
  inference: async () => (await import('./inference.js')).benchInferenceSection(),
  'inference-quality': async () => (await import('./inference.js')).benchInferenceQualitySection(),
  labelspeed: async () => (await import('./label-speed.js')).benchLabelSpeed({ teacherDir, corpusPath: devCorpus, every: 10, rounds: 2 }),
  storage: async () => (await import('./storage.js')).benchStorage({ teacherDir, corpusPath: devCorpus, every: 30, fidelityPositions: 128 }),
  startup: async () => (await import('./cli-startup.js')).benchStartupSection(),
  distill: async () =>
    (await import('./distill.js')).benchDistill({
      teacherDir,
      trainCorpus: `${sharedDir}corpus/train.jsonl`,
      devCorpus,
      studentTokenizer: `${repoRoot}examples/student-tokenizer/tokenizer.json`,
      dir: `${repoRoot}out/bench/distill`,
      every: count('distill-every'),
      steps: count('distill-steps'),
      batchSize: 8,
      sequenceLength: 128,
      evalDocuments: count('distill-eval-documents'),
      evalKlDocuments: count('distill-eval-kl-documents'),
      evalExamples: count('distill-eval-examples'),
      rows: values['distill-rows']?.split(','),
      rowsPerPart: count('distill-rows-per-part'),
    }),
};

const chosen = values.only ? values.only.split(',') : Object.keys(sections);
for (const name of chosen) {
  if (!sections[name]) throw new Error(`unknown bench section "${name}"; known: ${Object.keys(sections).join(', ')}`);
}
const results = loadResults();
for (const name of chosen) {
  process.stderr.write(`bench ${name}…\n`);
  const started = performance.now();
  const result = await sections[name]!();
  results[name] = { ...result, command: `pnpm bench --only ${name}${name === 'distill' ? distillFlags : ''}` };
  saveResults(results, [name]);
  process.stderr.write(`bench ${name} done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}
process.stderr.write(`wrote ${repoRoot}docs/BENCHMARKS.md\n`);
