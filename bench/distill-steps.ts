// The KD step beside the CE step on the distillation benchmark's data (its slice, adaptive
// p=0.95 labels, student and batch): alternated fresh runs of each, the median and the mean step
// after the first two, as "Distillation quality" reports them. The comparison is kept under
// out/bench/distill (keyed by its settings), so the table's next run reads this one; --fresh
// measures again. Run: npx tsx bench/distill-steps.ts [--rounds 3] [--steps 40] [--fresh]
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { compareSteps, distillBenchDefaults, stepComparisonPath } from './distill.js';
import { cutLabelSets, labelSettings, trainingSlice } from './distill-labels.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, steps: { type: 'string', default: '40' }, fresh: { type: 'boolean', default: false } } });
const options = distillBenchDefaults();
const slice = trainingSlice(options.trainCorpus, options.every, options.dir);
const inputs = { teacherDir: options.teacherDir, corpus: slice, dir: join(options.dir, 'labels'), rowsPerPart: options.rowsPerPart, log: (line: string) => process.stderr.write(`${line}\n`) };
const [adaptive] = await cutLabelSets(inputs, [labelSettings.adaptive, labelSettings.fixed32, labelSettings.fixed8]);
const rounds = Number(values.rounds);
const steps = Number(values.steps);
if (values.fresh) rmSync(stepComparisonPath(options, slice.path, adaptive!, rounds, steps), { force: true });
const result = await compareSteps(options, slice.path, adaptive!, rounds, steps);
const ratios = (kd: number[], ce: number[]) => kd.map((value, round) => `${(value / ce[round]!).toFixed(2)}×`).join(', ');
console.log(`CE median step per round ${result.ceMs.map((ms) => ms.toFixed(0)).join(', ')} ms; KD ${result.kdMs.map((ms) => ms.toFixed(0)).join(', ')} ms (${ratios(result.kdMs, result.ceMs)})`);
console.log(`CE mean step per round ${result.ceMeanMs.map((ms) => ms.toFixed(0)).join(', ')} ms; KD ${result.kdMeanMs.map((ms) => ms.toFixed(0)).join(', ')} ms (${ratios(result.kdMeanMs, result.ceMeanMs)})`);
console.log(`load average ${result.loadAverage.min.toFixed(1)}–${result.loadAverage.max.toFixed(1)}`);
