// `kd align --teacher-tokenizer A --student-tokenizer B [--dataset DIR]`: how well a student's
// vocabulary covers the teacher's (raw vs byte-normalized overlap, exact vs tokenizer-mapped
// ids) and, over a labelled dataset, where the teacher's probability mass lands and how many
// student positions receive a teacher row. Builds (or reads from the cache) the id map that
// training uses.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { openDataset } from '@kd/codec-parquet';
import type { LabelledDocument } from '@kd/compress';
import { loadTokenizer } from '@kd/text';
import { buildVocabularyMap, coverageReport, type CoverageReport } from '@kd/vocab-align';
import { defineCommand } from '../define-command.js';
import { Progress } from '../progress.js';

export const alignSchema = z
  .object({
    teacherTokenizer: z.string().min(1).describe("the teacher's tokenizer.json, or the folder holding it"),
    studentTokenizer: z.string().min(1).describe("the student's tokenizer.json, or the folder holding it (with its tokenizer_config.json)"),
    dataset: z.string().min(1).optional().describe('a dataset written by kd label with this teacher: adds the mass shares and the aligned position fraction'),
    json: z.boolean().default(false).describe('print one JSON object (teacherVocab, studentVocab, overlapRaw, overlapNormalized, exactMapped, tokenizerMapped, …, dataset)'),
    cache: z.boolean().default(true).describe('read and write the id map cache'),
    cacheDir: z.string().min(1).optional().describe("where id maps are cached, keyed by both tokenizers' sha256"),
  })
  .strict();
type AlignOptions = z.input<typeof alignSchema>;

export type AlignResult = CoverageReport & { mapSeconds: number; cacheDir?: string };

/** Where maps are cached when --cache-dir is not given: the user's cache folder. */
function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kd', 'vocab-maps');
}

async function* withProgress(documents: AsyncIterable<LabelledDocument>, progress: Progress): AsyncGenerator<LabelledDocument> {
  let done = 0;
  for await (const document of documents) {
    yield document;
    progress.update(++done);
  }
  progress.finish();
}

const percent = (value: number) => `${(100 * value).toFixed(2)}%`;

function printTable(result: AlignResult, log: (line: string) => void): void {
  const row = (label: string, value: string | number, note = '') => log(`${label.padEnd(34)}${String(value).padStart(10)}  ${note}`.trimEnd());
  const ofTeacher = (count: number) => percent(count / result.teacherVocab);
  log(`teacher  ${result.teacher.path} (${result.teacher.family}, sha256 ${result.teacher.sha256.slice(0, 12)}…)`);
  log(`student  ${result.student.path} (${result.student.family}, sha256 ${result.student.sha256.slice(0, 12)}…)`);
  log('');
  row('teacher vocabulary', result.teacherVocab, 'tokens');
  row('student vocabulary', result.studentVocab, 'tokens');
  row('overlap, raw strings', result.overlapRaw, `${ofTeacher(result.overlapRaw)} of teacher tokens`);
  row('overlap, byte-normalized', result.overlapNormalized, `${ofTeacher(result.overlapNormalized)} of teacher tokens`);
  row('mapped exactly (same bytes)', result.exactMapped, ofTeacher(result.exactMapped));
  row('mapped by the student tokenizer', result.tokenizerMapped, `${ofTeacher(result.tokenizerMapped)} (first piece of the text)`);
  row('special tokens', result.specialMapped, ofTeacher(result.specialMapped));
  if (result.unknownMapped > 0) row("mapped to the student's unknown", result.unknownMapped, ofTeacher(result.unknownMapped));
  row('aligned vocabulary', result.alignedVocab, 'student ids that teacher tokens map to');
  row('map built in', `${result.mapSeconds.toFixed(2)} s`, result.cacheDir ? `cache ${result.cacheDir}` : 'not cached');
  const dataset = result.dataset;
  if (!dataset) return;
  log('');
  row('dataset documents', dataset.documents);
  row('teacher positions', dataset.teacherPositions);
  row('teacher mass on exact ids', percent(dataset.massShare.exact));
  row('teacher mass on tokenizer-mapped ids', percent(dataset.massShare.tokenizer));
  row('teacher mass on special tokens', percent(dataset.massShare.special));
  if (dataset.massShare.unknown > 0) row('teacher mass on unknown', percent(dataset.massShare.unknown));
  row('teacher tail mass (not kept)', percent(dataset.massShare.tail));
  row('aligned student positions', percent(dataset.alignedPositionFraction), `${dataset.alignedPositions} of ${dataset.studentPositions}`);
}

export async function runAlign(options: AlignOptions, log: (line: string) => void = console.log): Promise<AlignResult> {
  const teacher = await loadTokenizer(resolve(options.teacherTokenizer));
  const student = await loadTokenizer(resolve(options.studentTokenizer));
  const cacheDir = options.cache === false ? undefined : resolve(options.cacheDir ?? defaultCacheDir());
  const started = performance.now();
  const map = await buildVocabularyMap(teacher, student, { cacheDir });
  const mapSeconds = (performance.now() - started) / 1000;
  let documents: AsyncIterable<LabelledDocument> | undefined;
  if (options.dataset) {
    // The dataset must come from this teacher tokenizer: its ids index this vocabulary.
    const dataset = await openDataset(resolve(options.dataset), { expectTokenizerSha256: teacher.sha256 });
    const progress = new Progress({ label: 'align', total: dataset.manifest.totals.documents, unit: 'documents', enabled: options.json ? false : undefined });
    documents = withProgress(dataset.documents(), progress);
  }
  const result: AlignResult = { ...(await coverageReport(map, documents)), mapSeconds, ...(cacheDir ? { cacheDir } : {}) };
  if (options.json) log(JSON.stringify(result));
  else printTable(result, log);
  return result;
}

export function alignCommand(): Command {
  return defineCommand({
    name: 'align',
    description: "Map the teacher's tokens onto the student's vocabulary and report the coverage",
    own: alignSchema,
    fallbacks: { cacheDir: { shown: defaultCacheDir(), value: () => undefined } },
    examples: [
      'kd align --teacher-tokenizer examples/teacher --student-tokenizer examples/student-tokenizer',
      'kd align --teacher-tokenizer examples/teacher --student-tokenizer examples/student-tokenizer \\',
      '         --dataset out/dev-labels --json | jq .dataset.massShare',
    ],
    run: async (_library, options) => {
      await runAlign(options);
    },
  });
}
