// The distillation objective on the onnxruntime engine, as a graph fragment:
// α·τ²·D(teacher ‖ student at τ) + (1 − α)·CE on rows with a teacher target, CE alone elsewhere,
// D ∈ {forward KL, reverse KL, JSD(β)} on the partition {each distinct id of the row} ∪ {the
// rest} (kd-divergence.ts states the math; this is its port to graph operators). What depends
// on the teacher alone — merging repeated ids into one category and summing their mass — is
// done in `feeds` on [rows, K] arrays; the graph gathers the student's probabilities at those
// ids, computes D and its coefficients on [rows, K], and forms dLogits in one dense pass (a
// per-row coefficient times the softmax) plus one scatter at the label and the ids.
import type { GraphBuilder } from '../onnx-graph.js';
import type { DistillationSettings, SoftTargets } from '../kd-divergence.js';
import { reverseKlFloor } from '../kd-divergence.js';
import type { EngineObjective, EngineTensor, ObjectiveBatch } from './objective.js';

/** Student residual mass is clamped here, as in kd-divergence.ts. */
const residualFloor = 1e-12;

/** The teacher's targets as the graph takes them: one category per distinct id, [rows, K]. */
export function categoryFeeds(targets: SoftTargets | undefined, rows: number): Record<string, EngineTensor> {
  const width = targets?.width ?? 1;
  if (targets && targets.rows !== rows) throw new RangeError(`soft targets for ${targets.rows} rows do not fit a micro-batch of ${rows} rows`);
  const ids = new BigInt64Array(rows * width);
  const mass = new Float32Array(rows * width);
  const mask = new Float32Array(rows * width);
  const residual = new Float32Array(rows);
  const present = new Float32Array(rows);
  if (targets) {
    for (let row = 0; row < rows; row++) {
      if (targets.present[row] === 0) continue;
      present[row] = 1;
      residual[row] = targets.residual[row];
      const base = row * width;
      for (let k = 0; k < width; k++) {
        const id = targets.ids[base + k];
        ids[base + k] = BigInt(id);
        let first = k;
        for (let j = 0; j < k; j++) {
          if (targets.ids[base + j] === id) {
            first = j;
            break;
          }
        }
        if (first === k) mask[base + k] = 1;
        // A repeated id adds its probability to the category of its first entry.
        mass[base + first] += targets.probs[base + k];
      }
    }
  }
  return {
    kd_ids: { type: 'int64', data: ids, dims: [rows, width] },
    kd_mass: { type: 'float32', data: mass, dims: [rows, width] },
    kd_mask: { type: 'float32', data: mask, dims: [rows, width] },
    kd_residual: { type: 'float32', data: residual, dims: [rows, 1] },
    kd_present: { type: 'float32', data: present, dims: [rows, 1] },
  };
}

/** α·τ²·D + (1 − α)·CE with a hand-written sparse gradient; metrics `ce` (mean CE) and `kd` (mean D over rows with a teacher). */
export function createDistillationEngineObjective(settings: DistillationSettings): EngineObjective<SoftTargets> {
  const { alpha, temperature, divergence, beta } = settings;
  return {
    name: 'kd',
    feeds: (batch: ObjectiveBatch<SoftTargets>) => categoryFeeds(batch.targets, batch.rows),
    build(g: GraphBuilder, context) {
      const { logits, labels, rowWeights, rows } = context;
      const op = (type: string, inputs: string[], attributes: Parameters<GraphBuilder['op']>[2] = {}) => g.op(type, inputs, attributes);
      const float = (value: number) => g.floats(g.unique('kd_c'), Float32Array.of(value), []);
      const add = (a: string, b: string) => op('Add', [a, b]);
      const sub = (a: string, b: string) => op('Sub', [a, b]);
      const mul = (a: string, b: string) => op('Mul', [a, b]);
      const log = (a: string) => op('Log', [a]);
      const axis1 = g.ints(g.unique('kd_axis'), [1]);
      const sumRow = (x: string) => op('ReduceSum', [x, axis1], { keepdims: 1 });
      const zero = float(0);

      const ids = g.input('kd_ids', 'int64', [rows, 'teacher_width']);
      const teacherMass = g.input('kd_mass', 'float', [rows, 'teacher_width']);
      const mask = g.input('kd_mask', 'float', [rows, 'teacher_width']);
      const teacherResidual = g.input('kd_residual', 'float', [rows, 1]);
      const present = g.input('kd_present', 'float', [rows, 1]);
      const isCategory = op('Greater', [mask, zero]);
      const onCategories = (x: string) => op('Where', [isCategory, x, zero]);

      // Student at 1 (CE) and at τ (D); log Σexp from the softmax: max u − log max q.
      const probabilities = op('Softmax', [logits], { axis: -1 });
      const logNormalizer = sub(op('ReduceMax', [logits], { axes: [-1], keepdims: 1 }), log(op('ReduceMax', [probabilities], { axes: [-1], keepdims: 1 })));
      const scaled = temperature === 1 ? logits : mul(logits, float(1 / temperature));
      const tempered = temperature === 1 ? probabilities : op('Softmax', [scaled], { axis: -1 });
      const temperedNormalizer = temperature === 1 ? logNormalizer : sub(op('ReduceMax', [scaled], { axes: [-1], keepdims: 1 }), log(op('ReduceMax', [tempered], { axes: [-1], keepdims: 1 })));
      const student = op('GatherElements', [tempered, ids], { axis: 1 });
      const logStudent = sub(op('GatherElements', [scaled, ids], { axis: 1 }), temperedNormalizer);
      const studentResidual = op('Max', [sub(float(1), sumRow(mul(student, mask))), float(residualFloor)]);
      const logStudentResidual = log(studentResidual);

      // Each category's D term and slope ∂D/∂Q; `weighted` is Q·slope (forward KL: −P exactly).
      const category = (teacher: string, q: string, logQ: string) => {
        const teacherLog = log(op('Max', [teacher, float(1e-30)]));
        const hasTeacher = op('Greater', [teacher, zero]);
        switch (divergence) {
          case 'forward-kl':
            return { value: op('Where', [hasTeacher, mul(teacher, sub(teacherLog, logQ)), zero]), slope: op('Neg', [op('Div', [teacher, q])]), weighted: op('Neg', [teacher]) };
          case 'reverse-kl': {
            const logRatio = sub(logQ, log(op('Max', [teacher, float(reverseKlFloor)])));
            const slope = add(logRatio, float(1));
            return { value: mul(q, logRatio), slope, weighted: mul(q, slope) };
          }
          case 'jsd': {
            const logMixture = log(add(mul(teacher, float(beta)), mul(q, float(1 - beta))));
            const teacherPart = op('Where', [hasTeacher, mul(mul(teacher, float(beta)), sub(teacherLog, logMixture)), zero]);
            const slope = mul(sub(logQ, logMixture), float(1 - beta));
            return { value: add(teacherPart, mul(q, slope)), slope, weighted: mul(q, slope) };
          }
        }
      };
      const rest = category(teacherResidual, studentResidual, logStudentResidual);
      const kept = category(teacherMass, student, logStudent);
      const value = add(rest.value, sumRow(onCategories(kept.value)));
      const meanSlope = add(divergence === 'forward-kl' ? op('Neg', [teacherResidual]) : mul(studentResidual, rest.slope), sumRow(onCategories(kept.weighted)));
      const sparse = onCategories(sub(kept.weighted, mul(student, rest.slope)));
      const dense = sub(rest.slope, meanSlope);

      // Row scales: w / Σw, split between the hard label and D.
      const weights = op('Unsqueeze', [rowWeights, axis1]);
      const total = op('Max', [op('ReduceSum', [rowWeights], { keepdims: 0 }), float(1e-12)]);
      const share = op('Div', [weights, total]);
      const hardScale = mul(share, sub(float(1), mul(present, float(alpha))));
      const softShare = mul(share, present);
      const rowLoss = sub(logNormalizer, op('GatherElements', [logits, labels], { axis: 1 }));
      const total2 = (x: string) => op('ReduceSum', [x], { keepdims: 0 });
      const divergenceLoss = total2(mul(softShare, value));
      const loss = add(total2(mul(hardScale, rowLoss)), mul(divergenceLoss, float(alpha * temperature * temperature)));

      // dLogits = hard·p + α·τ·share·dense·q_τ, then −hard at the label and α·τ·share·sparse at the ids.
      const softScale = mul(softShare, float(alpha * temperature));
      const denseScale = mul(softScale, dense);
      const dense2 = temperature === 1 ? mul(probabilities, add(hardScale, denseScale)) : add(mul(probabilities, hardScale), mul(tempered, denseScale));
      const dLogits = op('ScatterElements', [dense2, op('Concat', [labels, ids], { axis: 1 }), op('Concat', [op('Neg', [hardScale]), mul(softScale, sparse)], { axis: 1 })], {
        axis: 1,
        reduction: { string: 'add' },
      });
      const presentWeight = op('Max', [total2(mul(weights, present)), float(1e-12)]);
      return {
        loss,
        dLogits,
        metrics: { ce: total2(mul(share, rowLoss)), kd: op('Div', [total2(mul(mul(weights, present), value)), presentWeight]) },
      };
    },
  };
}
