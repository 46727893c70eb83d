// The distillation objective on the onnxruntime engine, as a graph fragment: α·τ²·D(teacher ‖
// student at τ) + (1 − α)·CE where a row has a teacher target, CE alone where it has none.
// The math is kd-divergence.ts's (the float64 reference the tests check this against): D on
// the partition {each distinct id of the row} ∪ {the rest}, its gradient one coefficient per
// row times the softmax at τ plus a correction at the row's ids (ScatterElements, add). `feeds`
// merges repeated ids into one category on the JavaScript side, where only the teacher's
// [rows, K] data is; no [rows, vocab] target exists on either side.
import type { GraphBuilder } from './onnx-graph.js';
import type { EngineObjective, EngineTensor, ObjectiveContext } from './engine/objective.js';
import { crossEntropyFragment } from './engine/objective.js';
import { reverseKlFloor, type DistillationSettings, type SoftTargets } from './kd-divergence.js';

/** Input names the fragment declares. */
const inputs = { ids: 'kd_ids', probs: 'kd_probs', mask: 'kd_mask', residual: 'kd_residual', present: 'kd_present' } as const;

/** Per id: where it first appears in the current row (−1 elsewhere); grown to the largest id seen. */
let firstAtScratch = new Int32Array(0);

/**
 * Teacher data of a micro-batch: repeated ids of a row merged into the first (mask 1), repeats
 * and padding mask 0. Linear in the entries (a row may hold thousands of ids: full-distribution
 * targets), and int32 ids, which GatherElements and ScatterElements take as they are.
 */
export function distillationFeeds(targets: SoftTargets | undefined, rows: number, width: number): Record<string, EngineTensor> {
  const ids = new Int32Array(rows * width);
  const probs = new Float32Array(rows * width);
  const mask = new Float32Array(rows * width);
  const residual = new Float32Array(rows);
  const present = new Float32Array(rows);
  if (targets) {
    if (targets.rows !== rows || targets.width !== width) {
      throw new RangeError(`soft targets of ${targets.rows} rows × ${targets.width} entries; the objective was built for ${rows} × ${width}`);
    }
    for (let row = 0; row < rows; row++) {
      if (targets.present[row] === 0) continue;
      present[row] = 1;
      residual[row] = targets.residual[row];
      const base = row * width;
      let firstAt = firstAtScratch;
      for (let k = 0; k < width; k++) {
        const id = targets.ids[base + k];
        if (id >= firstAt.length) {
          const grown = new Int32Array(Math.max(id + 1, 2 * firstAt.length)).fill(-1);
          grown.set(firstAt);
          firstAt = firstAtScratch = grown;
        }
        ids[base + k] = id;
        let first = firstAt[id];
        if (first < 0) {
          first = k;
          firstAt[id] = k;
          mask[base + k] = 1;
        }
        probs[base + first] += targets.probs[base + k];
      }
      for (let k = 0; k < width; k++) firstAt[targets.ids[base + k]] = -1;
    }
  }
  return {
    [inputs.ids]: { type: 'int32', data: ids, dims: [rows, width] },
    [inputs.probs]: { type: 'float32', data: probs, dims: [rows, width] },
    [inputs.mask]: { type: 'float32', data: mask, dims: [rows, width] },
    [inputs.residual]: { type: 'float32', data: residual, dims: [rows, 1] },
    [inputs.present]: { type: 'float32', data: present, dims: [rows] },
  };
}

/** D's value and slope ∂D/∂Q per category, as graph values of the shapes of P and Q. */
function divergenceNodes(
  graph: GraphBuilder,
  settings: DistillationSettings,
  teacher: string,
  student: string,
  logStudent: string,
  scalar: (value: number) => string,
): { value: string; slope: string } {
  const tiny = scalar(1e-30);
  switch (settings.divergence) {
    case 'forward-kl': {
      // P·(log P − log Q); P = 0 contributes 0 (log of the floor is finite).
      const logTeacher = graph.op('Log', [graph.op('Max', [teacher, tiny])]);
      const value = graph.op('Mul', [teacher, graph.op('Sub', [logTeacher, logStudent])]);
      const slope = graph.op('Neg', [graph.op('Div', [teacher, graph.op('Max', [student, tiny])])]);
      return { value, slope };
    }
    case 'reverse-kl': {
      const logTeacher = graph.op('Log', [graph.op('Max', [teacher, scalar(reverseKlFloor)])]);
      const logRatio = graph.op('Sub', [logStudent, logTeacher]);
      return { value: graph.op('Mul', [student, logRatio]), slope: graph.op('Add', [logRatio, scalar(1)]) };
    }
    case 'jsd': {
      const beta = settings.beta;
      const mixture = graph.op('Max', [graph.op('Add', [graph.op('Mul', [teacher, scalar(beta)]), graph.op('Mul', [student, scalar(1 - beta)])]), tiny]);
      const logMixture = graph.op('Log', [mixture]);
      const logTeacher = graph.op('Log', [graph.op('Max', [teacher, tiny])]);
      const teacherPart = graph.op('Mul', [graph.op('Mul', [teacher, scalar(beta)]), graph.op('Sub', [logTeacher, logMixture])]);
      const studentLogRatio = graph.op('Sub', [logStudent, logMixture]);
      const studentPart = graph.op('Mul', [graph.op('Mul', [student, scalar(1 - beta)]), studentLogRatio]);
      return { value: graph.op('Add', [teacherPart, studentPart]), slope: graph.op('Mul', [studentLogRatio, scalar(1 - beta)]) };
    }
  }
}

/** The `kd` objective for rows of `width` teacher entries. */
export function distillationEngineObjective(settings: DistillationSettings, width: number): EngineObjective<SoftTargets> {
  const { alpha, temperature } = settings;
  return {
    name: 'kd',
    build(graph: GraphBuilder, context: ObjectiveContext) {
      const { logits, rowWeights, rows } = context;
      const scalar = (value: number) => graph.floats(graph.unique('kd_const'), Float32Array.of(value), []);
      const ids = graph.input(inputs.ids, 'int32', [rows, width]);
      const teacher = graph.input(inputs.probs, 'float', [rows, width]);
      const mask = graph.input(inputs.mask, 'float', [rows, width]);
      const teacherResidual = graph.input(inputs.residual, 'float', [rows, 1]);
      const present = graph.input(inputs.present, 'float', [rows]);
      const axisOne = graph.ints(graph.unique('kd_axis'), [1]);

      // Hard label: weight 1 − α on rows with a teacher target, 1 elsewhere.
      const hardScale = graph.op('Sub', [scalar(1), graph.op('Mul', [present, scalar(alpha)])]);
      const hard = crossEntropyFragment(graph, context, hardScale);

      // The student at τ and its log-normalizer (from the softmax, as CE does).
      const scaled = temperature === 1 ? logits : graph.op('Div', [logits, scalar(temperature)]);
      const studentAll = temperature === 1 ? hard.probabilities : graph.op('Softmax', [scaled], { axis: -1 });
      const maxScaled = graph.op('ReduceMax', [scaled], { axes: [-1], keepdims: 1 });
      const logNormalizer = graph.op('Sub', [maxScaled, graph.op('Log', [graph.op('ReduceMax', [studentAll], { axes: [-1], keepdims: 1 })])]);
      const student = graph.op('GatherElements', [studentAll, ids], { axis: 1 });
      const logStudent = graph.op('Sub', [graph.op('GatherElements', [scaled, ids], { axis: 1 }), logNormalizer]);
      const studentKept = graph.op('ReduceSum', [graph.op('Mul', [student, mask]), axisOne], { keepdims: 1 });
      const studentResidual = graph.op('Max', [graph.op('Sub', [scalar(1), studentKept]), scalar(1e-12)]);
      const logStudentResidual = graph.op('Log', [studentResidual]);

      const entries = divergenceNodes(graph, settings, teacher, student, logStudent, scalar);
      const rest = divergenceNodes(graph, settings, teacherResidual, studentResidual, logStudentResidual, scalar);
      const maskedValue = graph.op('Mul', [entries.value, mask]);
      const rowValue = graph.op('Add', [graph.op('ReduceSum', [maskedValue, axisOne], { keepdims: 1 }), rest.value]);
      // Q·g per entry as one product (forward KL: −P, exact when Q underflows).
      const weighted = graph.op('Mul', [settings.divergence === 'forward-kl' ? graph.op('Neg', [teacher]) : graph.op('Mul', [student, entries.slope]), mask]);
      const meanSlope = graph.op('Add', [graph.op('ReduceSum', [weighted, axisOne], { keepdims: 1 }), graph.op('Mul', [studentResidual, rest.slope])]);
      const dense = graph.op('Sub', [rest.slope, meanSlope]);
      const sparse = graph.op('Mul', [graph.op('Sub', [weighted, graph.op('Mul', [student, rest.slope])]), mask]);

      // α·τ²·D averaged like CE (over Σ weights); its logits gradient is α·τ per unit of D's.
      const total = graph.op('Max', [graph.op('ReduceSum', [rowWeights], { keepdims: 0 }), scalar(1e-12)]);
      const softWeight = graph.op('Div', [graph.op('Mul', [rowWeights, present]), total]);
      const softWeightColumn = graph.op('Unsqueeze', [softWeight, axisOne]);
      const flatValue = graph.op('Reshape', [rowValue, graph.ints(graph.unique('kd_flat'), [-1])]);
      const softLoss = graph.op('Mul', [graph.op('ReduceSum', [graph.op('Mul', [flatValue, softWeight])], { keepdims: 0 }), scalar(alpha * temperature * temperature)]);
      const softScale = graph.op('Mul', [softWeightColumn, scalar(alpha * temperature)]);
      const denseGradient = graph.op('Mul', [studentAll, graph.op('Mul', [dense, softScale])]);
      const withDense = graph.op('Add', [hard.dLogits, denseGradient]);
      const dLogits = graph.op('ScatterElements', [withDense, ids, graph.op('Mul', [sparse, softScale])], { axis: 1, reduction: { string: 'add' } });
      return { loss: graph.op('Add', [hard.loss, softLoss]), dLogits, metrics: { ce: hard.loss, kd: softLoss } };
    },
    feeds: (batch) => distillationFeeds(batch.targets, batch.rows, width),
  };
}
