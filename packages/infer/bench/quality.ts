// Task quality of a model folder on the shared dev corpus: spam/ham accuracy with
// Model.classify and EN→DE chrF of Model.translate (greedy) against the references.
// Run alone: npx tsx packages/infer/bench/quality.ts [--translate 300] [--classify 0 (= all)]
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chrF, classificationAccuracy, loadModel, type ClassificationReport } from '../src/index.js';

const shared = fileURLToPath(new URL('../../../../shared/', import.meta.url));
export const devCorpus = join(shared, 'corpus/dev.jsonl');
export const teacherFolder = join(shared, 'fixtures/teacher-llama-13m');

export interface QualityOptions {
  dir?: string;
  corpus?: string;
  /** Translation examples from the start of the corpus (0 = all). */
  translateLimit?: number;
  /** Classification examples from the start of the corpus (0 = all). */
  classifyLimit?: number;
  threads?: number;
  log?: (line: string) => void;
}

export interface QualityResult {
  classification: ClassificationReport;
  translation: { chrF: number; examples: number; samples: { src: string; reference: string; output: string }[] };
  seconds: { classify: number; translate: number };
}

interface Row {
  task: string;
  input?: string;
  label?: string;
  src?: string;
  tgt?: string;
  src_lang?: string;
  tgt_lang?: string;
}

export async function benchQuality(options: QualityOptions = {}): Promise<QualityResult> {
  const log = options.log ?? (() => undefined);
  const rows = (await readFile(options.corpus ?? devCorpus, 'utf8'))
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as Row);
  const take = <T>(items: T[], limit: number | undefined) => (limit ? items.slice(0, limit) : items);
  // dev.jsonl lists the classify rows grouped by label, so a subset is every k-th row, not the first ones.
  const spread = <T>(items: T[], limit: number | undefined) => (limit && limit < items.length ? items.filter((_, i) => i % Math.ceil(items.length / limit) === 0) : items);
  const classify = spread(rows.filter((row) => row.task === 'classify'), options.classifyLimit);
  const translate = take(rows.filter((row) => row.task === 'translate'), options.translateLimit ?? 300);
  const model = await loadModel(options.dir ?? teacherFolder, { threads: options.threads ?? 2, promptOverflow: 'truncate-left', onNotice: () => undefined });
  try {
    let start = performance.now();
    const predictions: string[] = [];
    for (const [i, row] of classify.entries()) {
      predictions.push((await model.classify(row.input!, ['spam', 'ham'])).label);
      if ((i + 1) % 200 === 0) log(`classify ${i + 1}/${classify.length}`);
    }
    const classification = classificationAccuracy(predictions, classify.map((row) => row.label!));
    const classifySeconds = (performance.now() - start) / 1000;
    start = performance.now();
    const outputs: string[] = [];
    for (const [i, row] of translate.entries()) {
      const sourceTokens = (await model.tokenizer.encode(row.src!)).ids.length;
      const result = await model.translate(row.src!, { from: row.src_lang ?? 'English', to: row.tgt_lang ?? 'German', maxNewTokens: 2 * sourceTokens + 16 });
      outputs.push(result.text.trim());
      if ((i + 1) % 50 === 0) log(`translate ${i + 1}/${translate.length}`);
    }
    const translateSeconds = (performance.now() - start) / 1000;
    return {
      classification,
      translation: {
        chrF: chrF(outputs, translate.map((row) => row.tgt!)),
        examples: translate.length,
        samples: translate.slice(0, 3).map((row, i) => ({ src: row.src!, reference: row.tgt!, output: outputs[i] })),
      },
      seconds: { classify: classifySeconds, translate: translateSeconds },
    };
  } finally {
    await model.dispose();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { translate: { type: 'string' }, classify: { type: 'string' }, dir: { type: 'string' } } });
  const result = await benchQuality({
    dir: values.dir,
    translateLimit: Number(values.translate ?? 300),
    classifyLimit: Number(values.classify ?? 0),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  console.log(JSON.stringify(result, null, 2));
}
