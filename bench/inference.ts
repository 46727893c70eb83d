// Inference sections: @kd/infer beside transformers.js on the shared ONNX folders (speed), and
// the shared teacher's task quality on dev.jsonl (spam/ham accuracy, EN→DE chrF).
import { benchGenerateSpeed } from '../packages/infer/bench/generate.js';
import { benchQuality } from '../packages/infer/bench/quality.js';
import { cpus } from 'node:os';
import { machine, table, type SectionResult } from './report.js';

const format = (value: number, unit: string) => (Number.isNaN(value) ? '—' : unit === 'ms' ? value.toFixed(0) : value.toFixed(0));

export async function benchInferenceSection(): Promise<Omit<SectionResult, 'command'>> {
  const { rows, load } = await benchGenerateSpeed({ rounds: 3, threads: 2, log: (line) => process.stderr.write(`${line}\n`) });
  const keyed = new Map(rows.filter((row) => row.implementation.startsWith('transformers')).map((row) => [`${row.folder}|${row.measure}`, row]));
  const lines = rows.map((row) => {
    const baseline = keyed.get(`${row.folder}|${row.measure}`);
    let ratio = '—';
    if (baseline && row !== baseline && !Number.isNaN(baseline.value)) {
      ratio = row.unit === 'ms' ? `${(baseline.value / row.value).toFixed(2)}× faster` : `${(row.value / baseline.value).toFixed(2)}×`;
    }
    const value = row.failure ? `fails: ${row.failure.replace(/\|/g, '/')}` : format(row.value, row.unit);
    return [row.folder, row.measure, row.implementation, value, row.unit, ratio, row.rounds.map((round) => round.toFixed(0)).join(' / ')];
  });
  const markdown = [
    'Greedy generation through the public API (`loadModel` + `generate` / `generateBatch`) beside transformers.js 4.3 (`AutoModelForCausalLM.generate`, fp32) on the same ONNX folders, both on onnxruntime-node 1.30 with 2 intra-op threads, in one process: one warm-up each, then 3 rounds that alternate the implementations; the value is the median, the rounds are listed. `minNewTokens` = `maxNewTokens` so every run makes exactly 128 tokens. The ratio is against transformers.js in the same run (goal ≥ 1.5× at batch 1). Time to first token is `maxNewTokens: 1` on a 256-token prompt (tokenizing, prefill, first token, decoding).',
    '',
    `**The machine was shared and loaded during the run** (1-minute load average ${load[0].toFixed(1)} at the start and ${load[1].toFixed(1)} at the end, on ${cpus().length} cores, while other work ran), so absolute figures are below what a quiet machine gives; the ratios within the run are what to read, and even they are noisy. The bare onnxruntime-node loop (greedy, the cache fed back, nothing else) is the floor of per-token cost that @kd/infer approaches.`,
    '',
    table(['folder', 'measure', 'implementation', 'value', 'unit', 'vs transformers.js', 'rounds'], lines),
  ].join('\n');
  return { title: 'Inference (@kd/infer)', date: new Date().toISOString().slice(0, 10), machine: machine(), markdown, data: { rows, load } };
}

export async function benchInferenceQualitySection(options: { translateLimit?: number; classifyLimit?: number } = {}): Promise<Omit<SectionResult, 'command'>> {
  const translateLimit = options.translateLimit ?? 300;
  const classifyLimit = options.classifyLimit ?? 0;
  const result = await benchQuality({ translateLimit, classifyLimit, log: (line) => process.stderr.write(`${line}\n`) });
  const { classification, translation } = result;
  const labels = Object.entries(classification.labels).map(([label, entry]) => [label, entry.support, entry.precision.toFixed(3), entry.recall.toFixed(3)]);
  const markdown = [
    `The shared teacher \`teacher-llama-13m\` through @kd/infer on \`../shared/corpus/dev.jsonl\`. Classification: \`model.classify(input, ['spam', 'ham'])\` (the label whose continuation \`Label: <label></s>\` is more likely) on ${classification.total} classify rows${classifyLimit ? ' (the first ones)' : ' (all)'}. Translation: \`model.translate(src)\` greedy, at most 2 × source tokens + 16 new tokens, on the first ${translation.examples} translate rows, corpus chrF (character 6-grams, β = 2, as sacreBLEU 2 computes it; \`chrF\` from @kd/infer). These are the teacher's row of the distillation table.`,
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
