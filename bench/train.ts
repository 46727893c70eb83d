// Training step time of the student (two sizes, step breakdown) and export parity
// (onnxruntime-node on the exported ONNX vs the tfjs forward).
import { benchTraining } from '../packages/trainer/bench/step.js';
import { measureExportParity } from '../packages/trainer/bench/parity.js';
import { machine, table, type SectionResult } from './report.js';

export async function benchTrainSection(): Promise<Omit<SectionResult, 'command'>> {
  const rows = [...(await benchTraining({ threads: 2 })), ...(await benchTraining({ threads: 1 }))];
  const markdown = [
    'Median of 10 steps after 3 warm-up steps, next-token cross-entropy, clip + AdamW, on the onnxruntime engine with 2 and 1 intra-op threads; data comes from the real worker thread over `../shared/corpus/train.jsonl`. "data" is the time a step waited for its batch; GFLOP/s counts the products as `../shared/bench/torch_step.py` does. The side-by-side comparison with PyTorch is `npx tsx packages/trainer/bench/versus-torch.ts`.',
    '',
    table(
      ['size', 'engine', 'threads', 'parameters', 'batch × seq', 'vocab', 'forward ms', 'backward ms', 'optimizer ms', 'data ms', 'step ms', 'tokens/s', 'GFLOP/s'],
      rows.map((row) => [
        row.size, row.engine, row.threads, row.parameters.toLocaleString('en'), `${row.batchSize} × ${row.sequenceLength}`, row.vocabSize,
        row.forwardMs.toFixed(0), row.backwardMs.toFixed(0), row.optimizerMs.toFixed(1), row.dataMs.toFixed(1), row.stepMs.toFixed(0), row.tokensPerSecond.toFixed(0), row.gflops.toFixed(0),
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
