// Inference sections: @kd/infer beside transformers.js on the shared ONNX folders (speed), and
// the shared teacher's task quality on dev.jsonl (spam/ham accuracy, EN→DE chrF).
import { benchGenerateSpeed, type SpeedResult } from '../packages/infer/bench/generate.js';
import { benchQuality } from '../packages/infer/bench/quality.js';
import { cpus } from 'node:os';
import { machine, table, type SectionResult } from './report.js';

const format = (value: number | null) => (value === null || !Number.isFinite(value) ? '—' : value < 100 ? value.toFixed(1) : value.toFixed(0));

export async function benchInferenceSection(): Promise<Omit<SectionResult, 'command'>> {
  const result = await benchGenerateSpeed({ rounds: 3, threads: 2, log: (line) => process.stderr.write(`${line}\n`) });
  return { title: 'Inference (@kd/infer)', date: new Date().toISOString().slice(0, 10), machine: machine(), markdown: renderInference(result), data: result };
}

/** The section's text from its data (kept in bench-results.json, so it can be rendered again). */
export function renderInference({ rows, load }: SpeedResult): string {
  const keyed = new Map(rows.filter((row) => row.implementation.startsWith('transformers')).map((row) => [`${row.folder}|${row.measure}`, row]));
  const lines = rows.map((row) => {
    const baseline = keyed.get(`${row.folder}|${row.measure}`);
    let ratio = '—';
    // A failed baseline has no value (NaN, stored in JSON as null).
    if (baseline && row !== baseline && !baseline.failure && Number.isFinite(baseline.value)) {
      ratio = row.unit === 'ms' ? `${(baseline.value / row.value).toFixed(2)}× faster` : `${(row.value / baseline.value).toFixed(2)}×`;
    }
    const value = row.failure ? 'fails (see below)' : format(row.value);
    return [row.folder, row.measure, row.implementation, value, row.unit, ratio, row.rounds.map(format).join(' / ')];
  });
  const find = (folder: string, measure: string, implementation: string) => rows.find((row) => row.folder === folder && row.measure.startsWith(measure) && row.implementation.startsWith(implementation));
  const summary: string[] = [];
  for (const folder of new Set(rows.map((row) => row.folder))) {
    const ours = find(folder, 'batch 1', '@kd/infer, with KV cache');
    const reference = find(folder, 'batch 1', 'transformers.js');
    const bare = find(folder, 'batch 1', 'bare');
    if (ours && reference && !reference.failure) {
      const ratio = ours.value / reference.value;
      summary.push(
        `On ${folder} at batch 1 with the cache, @kd/infer made ${format(ours.value)} tokens/s, ${ratio.toFixed(2)}× transformers.js: the goal of 1.5× is ${ratio >= 1.5 ? 'met' : 'missed'} in this run` +
          (bare ? `; the bare loop made ${format(bare.value)} tokens/s (${(bare.value / reference.value).toFixed(2)}× transformers.js), so @kd/infer ran at ${((100 * ours.value) / bare.value).toFixed(0)}% of the floor.` : '.'),
      );
    }
  }
  const failures = rows.filter((row) => row.failure).map((row) => `${row.implementation} on ${row.folder} (${row.measure}): “${row.failure!.replace(/\|/g, '/')}”`);
  return [
    'Greedy generation through the public API (`loadModel` + `generate` / `generateBatch`) beside transformers.js 4.3 (`AutoModelForCausalLM.generate`, fp32) on the same ONNX folders, both on onnxruntime-node 1.30 with 2 intra-op threads, in one process: one warm-up each, then 3 rounds that alternate the implementations (one round for the slowest run, the unsliced teacher without a cache); the value is the median, the rounds are listed. `minNewTokens` = `maxNewTokens` so every run makes exactly 128 tokens. The ratio is against transformers.js in the same run (goal ≥ 1.5× at batch 1). Time to first token is `maxNewTokens: 1` on a 256-token prompt (tokenizing, prefill, first token, decoding).',
    '',
    `**The machine was shared and loaded during the run** (1-minute load average ${load[0].toFixed(1)} at the start and ${load[1].toFixed(1)} at the end, on ${cpus().length} cores, while other work ran), so absolute figures are below what a quiet machine gives; the ratios within the run are what to read, and even they are noisy. The bare onnxruntime-node loop (greedy, the cache fed back, nothing else) is the floor of per-token cost that @kd/infer approaches.`,
    '',
    table(['folder', 'measure', 'implementation', 'value', 'unit', 'vs transformers.js', 'rounds'], lines),
    '',
    ...summary.map((line) => `${line}\n`),
    '`sliceLogits: false` runs the graph as exported (logits at every position); the default slices the hidden states before the output projection, so prefill and, without a cache, every step compute logits for the last position only.',
    ...(failures.length
      ? ['', `Failed: ${failures.join('; ')}. transformers.js feeds only the new token after the first step even with \`use_cache: false\`, which a graph without \`past_key_values\` inputs cannot take; @kd/infer recomputes the whole sequence instead.`]
      : []),
  ].join('\n');
}

export async function benchInferenceQualitySection(options: { translateLimit?: number; classifyLimit?: number } = {}): Promise<Omit<SectionResult, 'command'>> {
  const translateLimit = options.translateLimit ?? 200;
  const classifyLimit = options.classifyLimit ?? 400;
  const result = await benchQuality({ translateLimit, classifyLimit, log: (line) => process.stderr.write(`${line}\n`) });
  const { classification, translation } = result;
  const labels = Object.entries(classification.labels).map(([label, entry]) => [label, entry.support, entry.precision.toFixed(3), entry.recall.toFixed(3)]);
  const markdown = [
    `The shared teacher \`teacher-llama-13m\` through @kd/infer on \`../shared/corpus/dev.jsonl\`. Classification: \`model.classify(input, ['spam', 'ham'])\` (the label whose continuation \`Label: <label></s>\` is more likely) on ${classification.total} classify rows${classifyLimit ? ' (every k-th row: the file lists them grouped by label)' : ' (all)'}. Translation: \`model.translate(src)\` greedy, at most 2 × source tokens + 16 new tokens, on the first ${translation.examples} translate rows, corpus chrF (character 6-grams, β = 2, as sacreBLEU 2 computes it; \`chrF\` from @kd/infer). These are the teacher's row of the distillation table.`,
    '',
    table(['task', 'measure', 'value', 'examples'], [
      ['classify (spam/ham)', 'accuracy', classification.accuracy.toFixed(4), classification.total],
      ['translate (EN→DE)', 'chrF', translation.chrF.toFixed(2), translation.examples],
    ]),
    '',
    table(['label', 'support', 'precision', 'recall'], labels),
    '',
    `Time under load: classify ${result.seconds.classify.toFixed(0)} s, translate ${result.seconds.translate.toFixed(0)} s. First outputs: ${translation.samples.map((sample) => `“${sample.src}” → “${sample.output}” (reference “${sample.reference}”)`).join('; ')}.`,
  ].join('\n');
  return { title: 'Inference quality of the shared teacher (@kd/infer)', date: new Date().toISOString().slice(0, 10), machine: machine(), markdown, data: result };
}
