// `kd label`: corpus + ONNX teacher → compressed Parquet dataset (offline mode). Running it
// again on the same output resumes after the last complete part.
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { openDatasetWriter, datasetStats } from '@kd/codec-parquet';
import { validateSpec, type CompressionSpec } from '@kd/compress';
import { loadTeacher } from '@kd/teacher';
import { readCorpus, type CorpusDocument } from '@kd/text';
import { applyConfigFile } from '../config.js';
import { CliError } from '../errors.js';
import { integerOption, numberOption } from '../options.js';
import { defaultTeacherDir } from '../paths.js';
import { Progress } from '../progress.js';
import { validateOptions } from '../validate.js';

const labelSchema = z.object({
  teacher: z.string().optional(),
  data: z.string({ error: 'is required: a .jsonl or .txt corpus file or a folder of them' }),
  out: z.string({ error: 'is required: the folder to write the dataset to' }),
  mode: z.enum(['fixed', 'adaptive', 'sampled', 'hybrid']),
  k: z.coerce.number().int().min(1),
  p: z.coerce.number(),
  kMin: z.coerce.number().int().min(1),
  kMax: z.coerce.number().int().min(1),
  samples: z.coerce.number().int().min(1),
  proposalTemperature: z.coerce.number().positive(),
  seed: z.coerce.number().int().min(0),
  temperature: z.coerce.number().positive(),
  batchSize: z.coerce.number().int().min(1),
  batchTokens: z.coerce.number().int().min(1).optional(),
  window: z.coerce.number().int().min(2).optional(),
  stride: z.coerce.number().int().min(1).optional(),
  rowsPerPart: z.coerce.number().int().min(1),
  limit: z.coerce.number().int().min(0).optional(),
  tasks: z.array(z.enum(['text', 'code', 'classify', 'translate'])).optional(),
  quantization: z.string().optional(),
  threads: z.coerce.number().int().min(1),
  json: z.boolean().optional(),
});
export type LabelOptions = z.infer<typeof labelSchema>;

function specOf(options: LabelOptions): CompressionSpec {
  const { p, kMin, kMax, samples, proposalTemperature, seed } = options;
  switch (options.mode) {
    case 'fixed':
      return validateSpec({ mode: 'fixed', k: options.k });
    case 'adaptive':
      return validateSpec({ mode: 'adaptive', p, kMin, kMax });
    case 'sampled':
      return validateSpec({ mode: 'sampled', samples, proposalTemperature, seed });
    case 'hybrid':
      return validateSpec({ mode: 'hybrid', p, kMin, kMax, samples, proposalTemperature, seed });
  }
}

function resolveTeacher(given: string | undefined): string {
  if (given) return resolve(given);
  const fallback = defaultTeacherDir();
  if (fallback) return fallback;
  throw new CliError(
    'E_USAGE',
    'no teacher given: pass --teacher DIR, a folder with model.onnx (or onnx/model.onnx) and tokenizer.json (the example teacher is ../shared/fixtures/teacher-llama-13m beside the repository)',
  );
}

/** One cheap pass over the corpus: how many documents there are, and how many come before `resumeFrom`. */
async function countDocuments(options: LabelOptions, resumeFrom: number): Promise<{ total: number; stored: number }> {
  let total = 0;
  let stored = 0;
  for await (const document of readCorpus(options.data, { limit: options.limit, tasks: options.tasks })) {
    total++;
    if (document.index < resumeFrom) stored++;
  }
  return { total, stored };
}

export async function runLabel(options: LabelOptions, log: (line: string) => void = console.log): Promise<void> {
  const spec = specOf(options);
  const teacherDir = resolveTeacher(options.teacher);
  if (!existsSync(options.data)) throw new CliError('E_USAGE', `--data ${options.data} does not exist; pass a .jsonl or .txt file or a folder of them`);
  const teacher = await loadTeacher(teacherDir, {
    temperature: options.temperature,
    topK: spec.mode === 'fixed' ? spec.k : spec.mode === 'sampled' ? 1 : spec.kMax,
    threads: options.threads,
  });
  try {
    validateSpec(spec, teacher.vocabSize);
    const writer = await openDatasetWriter(
      options.out,
      {
        teacher: { id: basename(teacherDir), sha256: teacher.modelSha256 },
        tokenizer: { sha256: teacher.tokenizerSha256 },
        vocabSize: teacher.vocabSize,
        temperature: options.temperature,
        compression: spec,
        corpus: { path: options.data },
      },
      { rowsPerPart: options.rowsPerPart, resume: true, ...(options.quantization ? { quantization: options.quantization as never } : {}) },
    );
    const resumeFrom = writer.resumeFrom;
    if (writer.relabelled.length > 0) log(`relabelling ${writer.relabelled.join(', ')} of ${options.out}: ${writer.relabelled[0]} is missing`);
    const { total: totalDocuments, stored: alreadyDone } = await countDocuments(options, resumeFrom);
    const pending = async function* (): AsyncGenerator<CorpusDocument> {
      for await (const document of readCorpus(options.data, { limit: options.limit, tasks: options.tasks })) {
        if (document.index >= resumeFrom) yield document;
      }
    };
    if (alreadyDone > 0) log(`resuming ${options.out}: ${alreadyDone} of ${totalDocuments} documents already stored`);
    const progress = new Progress({ label: 'label', total: totalDocuments, initial: alreadyDone, unit: 'docs' });
    let documents = alreadyDone;
    let tokens = 0;
    const started = performance.now();
    for await (const document of teacher.label(pending(), { spec, batchSize: options.batchSize, batchTokens: options.batchTokens, window: options.window, stride: options.stride })) {
      await writer.append(document);
      documents++;
      tokens += document.tokenIds.length;
      const seconds = (performance.now() - started) / 1000;
      progress.update(documents, `${(tokens / Math.max(seconds, 1e-9)).toFixed(0)} tokens/s`);
    }
    progress.finish();
    await writer.close();
    const seconds = (performance.now() - started) / 1000;
    const stats = await datasetStats(options.out);
    if (options.json) {
      log(JSON.stringify({ out: options.out, labelledTokens: tokens, seconds, tokensPerSecond: tokens / Math.max(seconds, 1e-9), ...stats }));
    } else {
      log(
        `labelled ${tokens} tokens in ${seconds.toFixed(1)} s (${(tokens / Math.max(seconds, 1e-9)).toFixed(0)} tokens/s) → ${options.out}: ` +
          `${stats.documents} documents, ${stats.tokens} tokens, ${stats.bytesPerToken.toFixed(2)} bytes/token, mean kept ${stats.meanKept.toFixed(2)}, mean tail mass ${stats.meanTailMass.toFixed(4)}`,
      );
    }
  } finally {
    await teacher.close();
  }
}

export function labelCommand(): Command {
  return new Command('label')
    .description('Run an ONNX teacher over a corpus and store its compressed distributions as Parquet')
    .option('--config <file>', 'JSON file of flag values (flags given here win)')
    .option('--teacher <dir>', 'teacher folder: model.onnx (or onnx/model.onnx) + tokenizer.json (default: ../shared/fixtures/teacher-llama-13m beside the repository)')
    .option('--data <path>', 'corpus: .jsonl (text/code/classify/translate records), .txt, or a folder of them')
    .option('--out <dir>', 'output folder (run again on the same folder to resume)')
    .addOption(new Option('--mode <mode>', 'compression mode').choices(['fixed', 'adaptive', 'sampled', 'hybrid']).default('adaptive'))
    .option('--k <n>', 'fixed mode: keep the top k', integerOption('--k', { min: 1 }), 32)
    .option('--p <x>', 'adaptive mode: keep the fewest whose sum reaches p', numberOption('--p'), 0.95)
    .option('--k-min <n>', 'adaptive mode: keep at least this many', integerOption('--k-min', { min: 1 }), 1)
    .option('--k-max <n>', 'adaptive mode: keep at most this many', integerOption('--k-max', { min: 1 }), 64)
    .option('--samples <n>', 'sampled / hybrid mode: draws per position (hybrid: from outside the adaptive head)', integerOption('--samples', { min: 1 }), 12)
    .option('--proposal-temperature <t>', 'sampled / hybrid mode: draw from p^(1/t), importance-weighted back to p', numberOption('--proposal-temperature'), 1)
    .option('--seed <n>', 'sampled / hybrid mode: seed of the draws', integerOption('--seed', { min: 0 }), 0)
    .option('--temperature <t>', 'softmax temperature τ', numberOption('--temperature'), 1)
    .option('--batch-size <n>', 'most windows per teacher batch', integerOption('--batch-size', { min: 1 }), 64)
    .option('--batch-tokens <n>', 'most positions per teacher batch, padding included (default 2048)', integerOption('--batch-tokens', { min: 1 }))
    .option('--window <n>', 'context window in tokens (default: min(model context, 1024))', integerOption('--window', { min: 2 }))
    .option('--stride <n>', 'new tokens per window for long documents (default: window / 2)', integerOption('--stride', { min: 1 }))
    .option('--rows-per-part <n>', 'target token rows per Parquet part', integerOption('--rows-per-part', { min: 1 }), 262_144)
    .option('--limit <n>', 'label only the first n documents', integerOption('--limit'))
    .option('--tasks <tasks...>', 'label only these tasks (text code classify translate)')
    .option('--quantization <scheme>', 'probability quantization scheme (see @kd/codec-parquet)')
    .option('--threads <n>', 'onnxruntime intra-op threads', integerOption('--threads', { min: 1 }), 2)
    .option('--json', 'print the summary as one JSON object')
    .addHelpText(
      'after',
      `
Example:
  kd label --teacher ../shared/fixtures/teacher-llama-13m --data ../shared/corpus/dev.jsonl \\
           --mode adaptive --p 0.95 --k-max 64 --out out/dev-labels
  kd label --data ../shared/corpus/dev.jsonl --mode sampled --samples 12 --seed 1 --out out/dev-sampled
  kd label --config examples/label.json        # the same flags from a file`,
    )
    .hook('preAction', (command) => applyConfigFile(command))
    .action(async (_options, command: Command) => {
      await runLabel(validateOptions(labelSchema, command.opts()));
    });
}
