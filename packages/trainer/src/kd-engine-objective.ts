// The distillation objective on the onnxruntime engine, as a graph fragment: α·τ²·D(teacher ‖
// student at τ) + (1 − α)·CE where a row has a teacher target, CE alone where it has none.
// The math is kd-divergence.ts's (the float64 reference the tests check this against): D on
// the partition {each distinct id of the row} ∪ {the rest}, its gradient one coefficient per
// row times the softmax at τ plus a correction at the row's ids (ScatterElements, add). `feeds`
// merges repeated ids into one category on the JavaScript side, where only the teacher's
// [rows, K] data is; no [rows, vocab] target exists on either side. The hard label's CE is
// part of the fragment, so the passes over [rows, vocab] (the step's extra cost over CE alone)
// are shared between the two terms: one softmax where τ is 1 or 2, one dense gradient, one
// scatter for the label and the teacher ids. With grouped categories (prefix groups) the
// student's mass per category is a ScatterElements sum over the row's distinct ids and each id
// takes its category's slope, gathered back.
import type { GraphBuilder } from './onnx-graph.js';
import type { EngineObjective, EngineTensor, ObjectiveContext } from './engine/objective.js';
import { reverseKlFloor, type DistillationSettings, type SoftTargets } from './kd-divergence.js';

/** Input names the fragment declares. */
const inputs = { ids: 'kd_ids', probs: 'kd_probs', mask: 'kd_mask', residual: 'kd_residual', present: 'kd_present', category: 'kd_category', head: 'kd_head' } as const;

/** Per id: where it first appears in the current row (−1 elsewhere); grown to the largest id seen. */
let firstAtScratch = new Int32Array(0);

/** The feed arrays of one batch shape, kept by an objective between micro-batches. */
export interface FeedBuffers {
  ids: Int32Array;
  probs: Float32Array;
  mask: Float32Array;
  residual: Float32Array;
  present: Float32Array;
  /** Grouped categories: each entry's category (an entry index; its id's first entry decides) and 1 at each category's entry. */
  category?: Int32Array;
  head?: Float32Array;
}

/**
 * Teacher data of a micro-batch: repeated ids of a row merged into the first (mask 1), repeats
 * and padding mask 0. Linear in the entries (a row may hold thousands of ids: full-distribution
 * targets), and int32 ids, which GatherElements and ScatterElements take as they are. With
 * `reuse` the arrays of the last batch's shape are cleared and written again when the shape
 * repeats (the engine runs one micro-batch at a time, so the last run's feeds are no longer read).
 */
export function distillationFeeds(targets: SoftTargets | undefined, rows: number, maxWidth: number, reuse?: Map<number, FeedBuffers>, grouped = false): Record<string, EngineTensor> {
  // The batch's own width (narrowTargets sizes it to its longest row); a batch without targets feeds one entry per row.
  const width = targets?.width ?? 1;
  const shape = rows * (maxWidth + 1) + width;
  let buffers = reuse?.get(shape);
  if (buffers) {
    buffers.ids.fill(0);
    buffers.probs.fill(0);
    buffers.mask.fill(0);
    buffers.residual.fill(0);
    buffers.present.fill(0);
    buffers.category?.fill(0);
    buffers.head?.fill(0);
  } else {
    // One shape kept: batch widths vary, and the last run's feeds are no longer read.
    reuse?.clear();
    buffers = { ids: new Int32Array(rows * width), probs: new Float32Array(rows * width), mask: new Float32Array(rows * width), residual: new Float32Array(rows), present: new Float32Array(rows) };
    if (grouped) {
      buffers.category = new Int32Array(rows * width);
      buffers.head = new Float32Array(rows * width);
    }
    reuse?.set(shape, buffers);
  }
  const { ids, probs, mask, residual, present, category, head } = buffers;
  if (targets) {
    if (targets.rows !== rows || targets.width > maxWidth) {
      throw new RangeError(`soft targets of ${targets.rows} rows × ${targets.width} entries; the objective was built for ${rows} rows of at most ${maxWidth}`);
    }
    if (targets.category && !grouped) throw new RangeError('soft targets with grouped categories need the objective built for prefix-group categories');
    const { ids: targetIds, probs: targetProbs, category: targetCategory, lengths } = targets;
    for (let row = 0; row < rows; row++) {
      if (targets.present[row] === 0) continue;
      present[row] = 1;
      residual[row] = targets.residual[row];
      const base = row * width;
      // Entries past the row's length repeat its first id with no mass: the first entry's id and category, mask 0.
      const length = lengths ? Math.max(1, Math.min(width, lengths[row])) : width;
      let firstAt = firstAtScratch;
      for (let k = 0; k < length; k++) {
        const id = targetIds[base + k];
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
        let slot = first;
        if (category) {
          slot = first === k ? (targetCategory ? targetCategory[base + k] : k) : category[base + first];
          if (!(slot >= 0 && slot < width)) throw new RangeError(`row ${row} entry ${k}: category ${slot} is not an entry index of the row`);
          category[base + k] = slot;
          if (first === k) head![base + slot] = 1;
        }
        probs[base + slot] += targetProbs[base + k];
      }
      if (length < width) {
        ids.fill(ids[base], base + length, base + width);
        category?.fill(category[base], base + length, base + width);
      }
      for (let k = 0; k < length; k++) firstAt[targetIds[base + k]] = -1;
    }
  }
  return {
    [inputs.ids]: { type: 'int32', data: ids, dims: [rows, width] },
    [inputs.probs]: { type: 'float32', data: probs, dims: [rows, width] },
    [inputs.mask]: { type: 'float32', data: mask, dims: [rows, width] },
    [inputs.residual]: { type: 'float32', data: residual, dims: [rows, 1] },
    [inputs.present]: { type: 'float32', data: present, dims: [rows] },
    ...(category && head
      ? { [inputs.category]: { type: 'int32', data: category, dims: [rows, width] } as EngineTensor, [inputs.head]: { type: 'float32', data: head, dims: [rows, width] } as EngineTensor }
      : {}),
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

/**
 * How the fragment gets the student's softmax at τ beside the one at 1 (the hard label's):
 * `shared` (τ = 1: one softmax), `square` (τ = 2: the engine hands in logits / 2, and the
 * softmax at 1 is q² / Σq², so one softmax serves both terms and the dense gradient
 * p·a + q·b is q·(q·a / Σq² + b)), `separate` (any other τ: two softmaxes).
 */
type TemperatureMode = 'shared' | 'square' | 'separate';

function temperatureMode(temperature: number): TemperatureMode {
  return temperature === 1 ? 'shared' : temperature === 2 ? 'square' : 'separate';
}

/** The `kd` objective for rows of at most `width` teacher entries (each batch feeds its own width: the graph's `kd_width`). */
export function distillationEngineObjective(settings: DistillationSettings, width: number): EngineObjective<SoftTargets> {
  const { alpha, temperature } = settings;
  const mode = temperatureMode(temperature);
  const grouped = settings.categories === 'prefix-group';
  const feedBuffers = new Map<number, FeedBuffers>();
  return {
    name: 'kd',
    // Logits / 2 come out of the LM head's product at no cost (a scale by 1/2 is exact).
    logitScale: mode === 'square' ? 1 / temperature : 1,
    build(graph: GraphBuilder, context: ObjectiveContext) {
      const { logits, labels, rowWeights, rows } = context;
      const scalar = (value: number) => graph.floats(graph.unique('kd_const'), Float32Array.of(value), []);
      const entryCount = 'kd_width';
      const ids = graph.input(inputs.ids, 'int32', [rows, entryCount]);
      const teacher = graph.input(inputs.probs, 'float', [rows, entryCount]);
      const mask = graph.input(inputs.mask, 'float', [rows, entryCount]);
      const teacherResidual = graph.input(inputs.residual, 'float', [rows, 1]);
      const present = graph.input(inputs.present, 'float', [rows]);
      const axisOne = graph.ints(graph.unique('kd_axis'), [1]);
      const column = (value: string) => graph.op('Unsqueeze', [value, axisOne]);
      const rowMax = (value: string) => graph.op('ReduceMax', [value], { axes: [-1], keepdims: 1 });
      // log Σexp(x) from the softmax of x: max x − log max softmax(x).
      const logNormalizerOf = (maxValue: string, probabilities: string) => graph.op('Sub', [maxValue, graph.op('Log', [rowMax(probabilities)])]);

      // The student at τ (u = logits / τ, q = softmax(u)) and the log-normalizer at 1 (of z = logits).
      let scaled: string; // u, [rows, vocab]
      let studentAll: string; // q
      let logNormalizerScaled: string; // log Σexp(u), [rows, 1]
      let logNormalizer: string; // log Σexp(z)
      let pickedLogit: string; // z at the label, [rows, 1]
      let hardProbabilities: string | undefined; // p where it is not q (separate)
      let squareSum: string | undefined; // Σq² (square)
      if (mode === 'separate') {
        hardProbabilities = graph.op('Softmax', [logits], { axis: -1 });
        const maxLogit = rowMax(logits);
        logNormalizer = logNormalizerOf(maxLogit, hardProbabilities);
        pickedLogit = graph.op('GatherElements', [logits, labels], { axis: 1 });
        scaled = graph.op('Div', [logits, scalar(temperature)]);
        studentAll = graph.op('Softmax', [scaled], { axis: -1 });
        logNormalizerScaled = logNormalizerOf(graph.op('Div', [maxLogit, scalar(temperature)]), studentAll);
      } else {
        scaled = logits;
        studentAll = graph.op('Softmax', [scaled], { axis: -1 });
        logNormalizerScaled = logNormalizerOf(rowMax(scaled), studentAll);
        const pickedScaled = graph.op('GatherElements', [scaled, labels], { axis: 1 });
        if (mode === 'shared') {
          logNormalizer = logNormalizerScaled;
          pickedLogit = pickedScaled;
        } else {
          // Σexp(z) = Σexp(2u) = exp(2·log Σexp(u))·Σq².
          squareSum = graph.op('ReduceSumSquare', [studentAll], { axes: [-1], keepdims: 1 });
          logNormalizer = graph.op('Add', [graph.op('Mul', [logNormalizerScaled, scalar(2)]), graph.op('Log', [squareSum])]);
          pickedLogit = graph.op('Mul', [pickedScaled, scalar(2)]);
        }
      }

      // Hard label: −log p[label], weight 1 − α on rows with a teacher target, 1 elsewhere;
      // averaged over Σ weights.
      const total = graph.op('Max', [graph.op('ReduceSum', [rowWeights], { keepdims: 0 }), scalar(1e-12)]);
      const hardScale = graph.op('Sub', [scalar(1), graph.op('Mul', [present, scalar(alpha)])]);
      const hardWeight = graph.op('Div', [graph.op('Mul', [rowWeights, hardScale]), total]);
      const hardRowLoss = graph.op('Reshape', [graph.op('Sub', [logNormalizer, pickedLogit]), graph.ints(graph.unique('kd_flat'), [-1])]);
      const hardLoss = graph.op('ReduceSum', [graph.op('Mul', [hardRowLoss, hardWeight])], { keepdims: 0 });
      const hardColumn = column(hardWeight);

      // The teacher term on the row's categories.
      const student = graph.op('GatherElements', [studentAll, ids], { axis: 1 });
      const logStudent = graph.op('Sub', [graph.op('GatherElements', [scaled, ids], { axis: 1 }), logNormalizerScaled]);
      const studentKept = graph.op('ReduceSum', [graph.op('Mul', [student, mask]), axisOne], { keepdims: 1 });
      const studentResidual = graph.op('Max', [graph.op('Sub', [scalar(1), studentKept]), scalar(1e-12)]);
      const logStudentResidual = graph.op('Log', [studentResidual]);

      const rest = divergenceNodes(graph, settings, teacherResidual, studentResidual, logStudentResidual, scalar);
      let rowValue: string;
      let meanSlope: string;
      let weighted: string; // q_i·g_c(i) per distinct id
      if (grouped) {
        // Q per category at its entry: the distinct ids' q summed there; each id takes its category's slope.
        const category = graph.input(inputs.category, 'int32', [rows, entryCount]);
        const head = graph.input(inputs.head, 'float', [rows, entryCount]);
        const groupStudent = graph.op('ScatterElements', [graph.op('Mul', [student, scalar(0)]), category, graph.op('Mul', [student, mask])], { axis: 1, reduction: { string: 'add' } });
        const logGroupStudent = graph.op('Log', [graph.op('Max', [groupStudent, scalar(1e-30)])]);
        const groups = divergenceNodes(graph, settings, teacher, groupStudent, logGroupStudent, scalar);
        rowValue = graph.op('Add', [graph.op('ReduceSum', [graph.op('Mul', [groups.value, head]), axisOne], { keepdims: 1 }), rest.value]);
        const weightedGroups = graph.op('Mul', [settings.divergence === 'forward-kl' ? graph.op('Neg', [teacher]) : graph.op('Mul', [groupStudent, groups.slope]), head]);
        meanSlope = graph.op('Add', [graph.op('ReduceSum', [weightedGroups, axisOne], { keepdims: 1 }), graph.op('Mul', [studentResidual, rest.slope])]);
        weighted = graph.op('Mul', [graph.op('Mul', [student, graph.op('GatherElements', [groups.slope, category], { axis: 1 })]), mask]);
      } else {
        const entries = divergenceNodes(graph, settings, teacher, student, logStudent, scalar);
        rowValue = graph.op('Add', [graph.op('ReduceSum', [graph.op('Mul', [entries.value, mask]), axisOne], { keepdims: 1 }), rest.value]);
        // Q·g per entry as one product (forward KL: −P, exact when Q underflows).
        weighted = graph.op('Mul', [settings.divergence === 'forward-kl' ? graph.op('Neg', [teacher]) : graph.op('Mul', [student, entries.slope]), mask]);
        meanSlope = graph.op('Add', [graph.op('ReduceSum', [weighted, axisOne], { keepdims: 1 }), graph.op('Mul', [studentResidual, rest.slope])]);
      }
      const dense = graph.op('Sub', [rest.slope, meanSlope]);
      const sparse = graph.op('Mul', [graph.op('Sub', [weighted, graph.op('Mul', [student, rest.slope])]), mask]);

      // α·τ²·D averaged like CE (over Σ weights); its logits gradient is α·τ per unit of D's.
      const softWeight = graph.op('Div', [graph.op('Mul', [rowWeights, present]), total]);
      const flatValue = graph.op('Reshape', [rowValue, graph.ints(graph.unique('kd_flat'), [-1])]);
      const softLoss = graph.op('Mul', [graph.op('ReduceSum', [graph.op('Mul', [flatValue, softWeight])], { keepdims: 0 }), scalar(alpha * temperature * temperature)]);
      const softScale = graph.op('Mul', [column(softWeight), scalar(alpha * temperature)]);
      const softColumn = graph.op('Mul', [dense, softScale]);

      // d/dz = a·p + b·q over the vocabulary (a: the hard weight, b: the soft row coefficient),
      // in as few passes over [rows, vocab] as the temperature allows.
      let denseGradient: string;
      if (mode === 'shared') denseGradient = graph.op('Mul', [studentAll, graph.op('Add', [hardColumn, softColumn])]);
      else if (mode === 'square') {
        const affine = graph.op('Add', [graph.op('Mul', [studentAll, graph.op('Div', [hardColumn, squareSum!])]), softColumn]);
        denseGradient = graph.op('Mul', [studentAll, affine]);
      } else denseGradient = graph.op('Add', [graph.op('Mul', [hardProbabilities!, hardColumn]), graph.op('Mul', [studentAll, softColumn])]);
      // Then the sparse part in one scatter: −a at the label, the soft correction at the row's ids.
      const scatterIds = graph.op('Concat', [graph.op('Cast', [labels], { to: 6 }), ids], { axis: 1 });
      const scatterValues = graph.op('Concat', [graph.op('Neg', [hardColumn]), graph.op('Mul', [sparse, softScale])], { axis: 1 });
      const dLogits = graph.op('ScatterElements', [denseGradient, scatterIds, scatterValues], { axis: 1, reduction: { string: 'add' } });
      return { loss: graph.op('Add', [hardLoss, softLoss]), dLogits, metrics: { ce: hardLoss, kd: softLoss } };
    },
    feeds: (batch) => distillationFeeds(batch.targets, batch.rows, width, feedBuffers, grouped),
  };
}
