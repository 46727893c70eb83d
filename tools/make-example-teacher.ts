// Builds the built-in example's teacher, examples/teacher/: a small Llama that kd itself
// trained (next-token cross-entropy) and exported, so the README's first command needs nothing
// but this repository. Its tokenizer is a 16,000-token byte-level BPE learned by
// tools/make-student-tokenizer.ts on the same corpus: a different, larger vocabulary than the
// example student's 8,000, which is what distillation across tokenizers has to bridge.
//
//   npx tsx tools/make-example-teacher.ts [--corpus examples/corpus/train.jsonl] [--steps 400] [--out examples/teacher]
//
// The folder keeps what labelling reads (onnx/model.onnx, config.json, the tokenizer files and
// the task templates); the export's model.safetensors, a second copy of the same weights, is
// left out to keep the repository small.
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { exportMarkerFile, exportModel, train } from '../packages/trainer/src/index.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    corpus: { type: 'string', default: join(repoRoot, 'examples/corpus/train.jsonl') },
    steps: { type: 'string', default: '400' },
    out: { type: 'string', default: join(repoRoot, 'examples/teacher') },
  },
});

const workDir = await mkdtemp(join(tmpdir(), 'kd-example-teacher-'));
try {
  const tokenizerDir = join(workDir, 'tokenizer');
  execFileSync(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'tools/make-student-tokenizer.ts'), '--corpus', resolve(values.corpus), '--size', '16000', '--out', tokenizerDir],
    { stdio: 'inherit' },
  );
  const runDir = join(workDir, 'run');
  // Ctrl-C ends training after the current step; the teacher is exported from that checkpoint.
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const steps = Number(values.steps);
  const result = await train(
    {
      corpus: resolve(values.corpus),
      tokenizer: join(tokenizerDir, 'tokenizer.json'),
      out: runDir,
      model: { hiddenSize: 192, layers: 2, heads: 4, maxPositions: 1024 },
      steps,
      batchSize: 8,
      sequenceLength: 256,
      learningRate: 3e-3,
      warmupSteps: Math.min(100, Math.floor(steps / 10)),
      checkpointEvery: steps,
      seed: 7,
      threads: 2,
    },
    {
      signal: controller.signal,
      onProgress: (progress) => {
        if (progress.step % 50 === 0 || progress.step === steps) process.stdout.write(`step ${progress.step}/${steps} loss ${progress.loss.toFixed(3)}\n`);
      },
    },
  );
  const exportDir = join(workDir, 'export');
  await exportModel(result.checkpoint, exportDir);
  // The export's marker lists model.safetensors, which the folder leaves out; it stays behind too.
  const kept = (await readdir(exportDir)).filter((entry) => entry !== 'model.safetensors' && entry !== exportMarkerFile);
  const outDir = resolve(values.out);
  // Replace only a folder this script wrote: nothing in it but the files an earlier run kept.
  const existing = await readdir(outDir).catch(() => [] as string[]);
  const foreign = existing.filter((entry) => !kept.includes(entry));
  if (foreign.length > 0) throw new Error(`${outDir} holds files this script did not write (${foreign.join(', ')}); pass another --out`);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  for (const entry of kept) await cp(join(exportDir, entry), join(outDir, entry), { recursive: true });
  process.stdout.write(`${outDir}: teacher trained for ${result.step} steps, final loss ${result.losses.at(-1)?.toFixed(3)}\n`);
} finally {
  await rm(workDir, { recursive: true, force: true });
}
