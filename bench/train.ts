// Training step time of the student (two sizes, step breakdown) and export parity
// (onnxruntime-node on the exported ONNX vs the tfjs forward).
import { benchTraining } from '../packages/trainer/bench/step.js';
import { measureExportParity } from '../packages/trainer/bench/parity.js';
import { machine, table, type SectionResult } from './report.js';

export async function benchTrainSection(): Promise<Omit<SectionResult, 'command'>> {
  const rows = await benchTraining({ steps: 5 });
  const markdown = [
    'Median of 5 steps after one warm-up step, next-token cross-entropy, AdamW; data comes from the real worker thread over `../shared/corpus/train.jsonl`. "data" is the time a step waited for its batch. tfjs-node cannot be installed on this machine, so only the wasm backend is measured.',
    '',
    table(
      ['size', 'backend', 'parameters', 'batch × seq', 'vocab', 'forward ms', 'backward ms', 'optimizer ms', 'data ms', 'step ms', 'tokens/s'],
      rows.map((row) => [
        row.size, row.backend, row.parameters.toLocaleString('en'), `${row.batchSize} × ${row.sequenceLength}`, row.vocabSize,
        row.forwardMs.toFixed(0), row.backwardMs.toFixed(0), row.optimizerMs.toFixed(1), row.dataMs.toFixed(1), row.stepMs.toFixed(0), row.tokensPerSecond.toFixed(0),
      ]),
    ),
  ].join('\n');
  return { title: 'Student training step (@kd/trainer)', date: new Date().toISOString().slice(0, 10), machine: machine(), markdown, data: rows };
}

export async function benchParitySection(): Promise<Omit<SectionResult, 'command'>> {
  const rows = await measureExportParity();
  const markdown = [
    'Largest absolute logit difference between onnxruntime-node running the exported `onnx/model.onnx` and the tfjs forward of the same weights (goal ≤ 1e-4), on a whole sequence and on a cached continuation (prefix, then the rest fed with `past_key_values`).',
    '',
    table(['model', 'max |Δ| without past', 'max |Δ| with past'], rows.map((row) => [row.model, row.maxDifferenceWithoutPast.toExponential(1), row.maxDifferenceWithPast.toExponential(1)])),
  ].join('\n');
  return { title: 'Export parity (@kd/trainer)', date: new Date().toISOString().slice(0, 10), machine: machine(), markdown, data: rows };
}
