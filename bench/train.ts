// Training step time of the student (two sizes, step breakdown) and export parity
// (onnxruntime-node on the exported ONNX vs the tfjs forward).
import { compareWithTorch, comparisonHeader, comparisonTable, type Comparison } from '../packages/trainer/bench/versus-torch.js';
import { measureExportParity } from '../packages/trainer/bench/parity.js';
import { machine, table, type SectionResult } from './report.js';

/** The section from a comparison (measured now by `benchTrainSection`, or summarized from kept runs). */
export function trainSection(comparison: Comparison, steps: number, warmup: number): Omit<SectionResult, 'command'> {
  const markdown = [
    `The trainer's step (onnxruntime engine) beside its PyTorch twin \`../shared/bench/torch_step.py\` (PyTorch from Debian with OpenBLAS) on the same CPU, batch 8 × seq 128, vocab 8000, next-token cross-entropy, clip + AdamW. Each of ${comparison.rounds} round(s) runs kd and PyTorch alternately in fresh processes at 2 and 1 threads (median of ${steps} steps after ${warmup} warm-ups each); the table gives the median over rounds. fwd / bwd / opt: kd's forward is a separate loss-only run and its backward the rest of the gradient run; PyTorch's are its own autograd split. GFLOP/s counts the products as torch_step.py does. The KD column is the distillation step (α 0.5, τ 2, forward KL, 32 teacher ids per position, tail as a bucket) at 2 threads, and its ratio to the CE step. The machine was shared with other work while this ran (1-minute load average ${comparison.loadAverage.min.toFixed(0)}–${comparison.loadAverage.max.toFixed(0)} on 2 cores, read during the runs), so absolute times are inflated and the 2-thread figures are those of processes that seldom had two free cores; the ratios of runs alternated in one window are the figures to read.`,
    '',
    table(comparisonHeader, comparisonTable(comparison)),
  ].join('\n');
  return { title: 'Student training step (@kd/trainer)', date: new Date().toISOString().slice(0, 10), machine: machine(), markdown, data: comparison };
}

export async function benchTrainSection(): Promise<Omit<SectionResult, 'command'>> {
  return trainSection(await compareWithTorch({ rounds: 3, threads: [2, 1], steps: 5, warmup: 2 }), 5, 2);
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
