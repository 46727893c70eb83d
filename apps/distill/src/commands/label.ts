// `kd label`: corpus + ONNX teacher → compressed Parquet dataset (offline mode), through
// @kd/pipeline's labelCorpus. Running it again on the same output resumes after the last
// complete part. The flags are labelCorpus's options.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { labelCorpus, labelOptionsSchema, type LabelOptions, type LabelSummary } from '@kd/pipeline';
import { defineCommand } from '../define-command.js';
import { CliError } from '../errors.js';
import { defaultTeacherDir } from '../paths.js';
import { Progress } from '../progress.js';

const ownSchema = z
  .object({
    json: z.boolean().optional().describe('print the summary as one JSON object on stdout (and nothing else there)'),
  })
  .strict();

function summaryLine(summary: LabelSummary): string {
  return (
    `labelled ${summary.labelledTokens} tokens in ${summary.seconds.toFixed(1)} s (${summary.tokensPerSecond.toFixed(0)} tokens/s) → ${summary.out}: ` +
    `${summary.documents} documents, ${summary.tokens} tokens, ${summary.bytesPerToken.toFixed(2)} bytes/token, mean kept ${summary.meanKept.toFixed(2)}, mean tail mass ${summary.meanTailMass.toFixed(4)}`
  );
}

export async function runLabel(options: LabelOptions, own: { json?: boolean }, log: (line: string) => void = console.log): Promise<LabelSummary> {
  // With --json, stdout carries the one JSON document; everything else goes to stderr.
  const note = own.json ? (line: string) => process.stderr.write(`${line}\n`) : log;
  let progress: Progress | undefined;
  const summary = await labelCorpus(options, {
    onStart: (start) => {
      if (start.relabelled.length > 0) note(`relabelling ${start.relabelled.join(', ')} of ${start.out}: ${start.relabelled[0]} is missing`);
      if (start.storedDocuments > 0) note(`resuming ${start.out}: ${start.storedDocuments} of ${start.totalDocuments} documents already stored`);
      progress = new Progress({ label: 'label', total: start.totalDocuments, initial: start.storedDocuments, unit: 'docs' });
    },
    onProgress: (update) => progress?.update(update.documents, `${(update.tokens / Math.max(update.seconds, 1e-9)).toFixed(0)} tokens/s`),
  });
  progress?.finish();
  log(own.json ? JSON.stringify(summary) : summaryLine(summary));
  return summary;
}

function fallbackTeacher(): string {
  const fallback = defaultTeacherDir();
  if (fallback) return fallback;
  throw new CliError(
    'E_USAGE',
    'no teacher given: pass --teacher DIR, a folder with model.onnx (or onnx/model.onnx) and tokenizer.json (a repository checkout has the example teacher examples/teacher)',
  );
}

export function labelCommand(): Command {
  return defineCommand({
    name: 'label',
    description: 'Run an ONNX teacher over a corpus and store its compressed distributions as Parquet',
    library: labelOptionsSchema,
    own: ownSchema,
    fallbacks: { teacher: { shown: 'examples/teacher of a repository checkout', value: fallbackTeacher } },
    examples: [
      'kd label --teacher examples/teacher --corpus examples/corpus/dev.jsonl \\',
      '         --mode adaptive --p 0.95 --k-max 64 --out out/dev-labels',
      'kd label --corpus examples/corpus/dev.jsonl --mode sampled --samples 12 --seed 1 --out out/dev-sampled',
      'kd label --config examples/label.json        # the same options from a file',
    ],
    run: async (options, own) => {
      await runLabel({ ...options, teacher: resolve(options.teacher) }, own);
    },
  });
}
