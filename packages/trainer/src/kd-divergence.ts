// The distillation objective's math on plain typed arrays, independent of any training engine:
// loss = α·τ²·D(teacher ‖ student at τ) + (1 − α)·CE(hard label) per position with a teacher
// row, CE alone elsewhere. The teacher is sparse (≤ K student ids per row, collisions allowed,
// plus the mass outside them), so D is measured on the partition {each distinct id of the row}
// ∪ {everything else}: the student's mass outside the row's ids is one residual category. With
// grouped categories (prefix groups: SoftTargets.category) a category is a set of ids whose
// teacher mass the student may share out among them as it likes. With
// a renormalized teacher that category holds no teacher mass (forward KL then reduces to the
// usual Σ p·log(p/q) over the kept ids); with the tail as a bucket it holds the tail mass.
//
// For any D over categories c with teacher mass P_c and student mass Q_c = Σ_{i∈c} q_i, the
// gradient with respect to the student's logits u (at τ) is q_i·(g_c(i) − ḡ) with g_c = ∂D/∂Q_c
// and ḡ = Σ_c Q_c·g_c: one coefficient per row times q (dense, in the engine) plus one
// correction per distinct id (sparse). `divergenceRows` computes those coefficients from the
// student's probabilities at the row's ids; an engine supplies q and adds them up.

/** Which divergence D compares teacher and student. */
export type Divergence = 'forward-kl' | 'reverse-kl' | 'jsd';

/** How the teacher's mass outside its kept ids is treated. */
export type TailTreatment = 'renormalize' | 'bucket';

/** What one category of D is: each student id (`token`), or a prefix group of student ids (`prefix-group`). */
export type TargetCategories = 'token' | 'prefix-group';

export interface DistillationSettings {
  /** Weight of the soft term; 1 − alpha goes to the hard label. */
  alpha: number;
  /** Softmax temperature of the student in D (the teacher's was fixed when labelling). */
  temperature: number;
  divergence: Divergence;
  /** JSD mixture weight: M = β·P + (1 − β)·Q, D = β·KL(P‖M) + (1 − β)·KL(Q‖M). */
  beta: number;
  /** What a category is; `prefix-group` targets carry SoftTargets.category (default `token`). */
  categories?: TargetCategories;
}

/**
 * The teacher's targets of a batch of rows over the student's vocabulary, sparse: row r holds
 * `width` entries [r·width, (r + 1)·width). An id may repeat within a row (teacher tokens that
 * map to one student token); its probabilities add. Padding repeats an id of the row with
 * probability 0 (a new id would join the row's categories and change the residual).
 */
export interface SoftTargets {
  rows: number;
  /** Entries per row (K). */
  width: number;
  /** Student ids, int32 [rows, width]. */
  ids: Int32Array;
  /** Teacher probability per entry, float32 [rows, width]; Σ over a row + residual[r] = 1. */
  probs: Float32Array;
  /** Teacher mass outside the row's ids, float32 [rows]: 0 when renormalized, the tail as a bucket. */
  residual: Float32Array;
  /** 1 where the row has a teacher target, 0 where only the hard label counts; uint8 [rows]. */
  present: Uint8Array;
  /**
   * Grouped categories (prefix groups), int32 [rows, width]: the entry's category, named by an
   * entry index of its row; an id's first entry decides for every repeat of it. Omitted: each
   * distinct id is its own category. A category's teacher mass is the sum of its entries'
   * probabilities and its student mass the sum of q over its distinct ids.
   */
  category?: Int32Array;
  /**
   * Entries before the padding per row, uint32 [rows] (narrowTargets sets it): entries
   * [lengths[r], width) repeat the row's first entry (its id and category) with probability 0,
   * so a reader may stop at the length. Omitted: any entry may be padding.
   */
  lengths?: Uint32Array;
}

/** The smallest teacher mass reverse KL compares with: log(Q/0) would be infinite. */
export const reverseKlFloor = 1e-6;
/** Student residual mass is clamped here: 1 − Σq loses precision as Σq → 1. */
const residualFloor = 1e-12;

/** Per-row terms of D (without α·τ²): the value, and the gradient's coefficients with respect to u = logits / τ. */
export interface DivergenceTerms {
  /** D per row (0 where `present` is 0). */
  value: Float64Array;
  /** Coefficient of q (the student's probabilities at τ) per row. */
  dense: Float64Array;
  /** Added at ids[r·width + k]; 0 at repeats and padding. */
  sparse: Float64Array;
}

/** D's value and ∂D/∂Q for one category. */
function categoryTerm(divergence: Divergence, beta: number, teacher: number, student: number, logStudent: number, out: { value: number; slope: number }): void {
  switch (divergence) {
    case 'forward-kl':
      out.value = teacher > 0 ? teacher * (Math.log(teacher) - logStudent) : 0;
      out.slope = -teacher / student;
      return;
    case 'reverse-kl': {
      const floored = Math.max(teacher, reverseKlFloor);
      const logRatio = logStudent - Math.log(floored);
      out.value = student * logRatio;
      out.slope = logRatio + 1;
      return;
    }
    case 'jsd': {
      const mixture = beta * teacher + (1 - beta) * student;
      const logMixture = Math.log(mixture);
      const teacherPart = teacher > 0 ? beta * teacher * (Math.log(teacher) - logMixture) : 0;
      out.value = teacherPart + (1 - beta) * student * (logStudent - logMixture);
      out.slope = (1 - beta) * (logStudent - logMixture);
      return;
    }
  }
}

/**
 * D and its gradient coefficients for every row, from the student's probability and log
 * probability at each entry's id (at temperature τ), gathered by the engine: studentProbs and
 * studentLogProbs are [rows, width] like targets.ids.
 */
export function divergenceRows(targets: SoftTargets, studentProbs: ArrayLike<number>, studentLogProbs: ArrayLike<number>, settings: Pick<DistillationSettings, 'divergence' | 'beta'>): DivergenceTerms {
  const { rows, width, ids, probs, residual, present, category } = targets;
  const value = new Float64Array(rows);
  const dense = new Float64Array(rows);
  const sparse = new Float64Array(rows * width);
  const term = { value: 0, slope: 0 };
  // Entry k's id's first entry (owner) and its category (the owner's); per category: teacher
  // mass, student mass, distinct ids (and the entry of the first), the slope ∂D/∂Q.
  const owner = new Int32Array(width);
  const categoryOf = new Int32Array(width);
  const mass = new Float64Array(width);
  const studentMass = new Float64Array(width);
  const distinct = new Int32Array(width);
  const slope = new Float64Array(width);
  const single = new Int32Array(width);
  let largestId = 0;
  for (let index = 0; index < ids.length; index++) largestId = Math.max(largestId, ids[index]);
  const slots = new Int32Array(largestId + 1).fill(-1);
  for (let row = 0; row < rows; row++) {
    if (present[row] === 0) continue;
    const base = row * width;
    mass.fill(0);
    studentMass.fill(0);
    distinct.fill(0);
    let studentKept = 0;
    for (let k = 0; k < width; k++) {
      const id = ids[base + k];
      const seen = slots[id];
      const first = seen >= 0 ? seen : k;
      if (seen < 0) slots[id] = k;
      owner[k] = first;
      const label = first === k ? (category ? category[base + k] : k) : categoryOf[first];
      if (!(label >= 0 && label < width)) throw new RangeError(`row ${row} entry ${k}: category ${label} is not an entry index of the row`);
      categoryOf[k] = label;
      mass[label] += probs[base + k];
      if (first === k) {
        studentMass[label] += studentProbs[base + k];
        if (distinct[label]++ === 0) single[label] = k;
        studentKept += studentProbs[base + k];
      }
    }
    const studentResidual = Math.max(1 - studentKept, residualFloor);
    categoryTerm(settings.divergence, settings.beta, residual[row], studentResidual, Math.log(studentResidual), term);
    let total = term.value;
    const residualSlope = term.slope;
    let meanSlope = studentResidual * residualSlope;
    for (let c = 0; c < width; c++) {
      if (distinct[c] === 0) continue;
      const student = studentMass[c];
      // One id: its log probability as the engine gave it (exact where Q underflows).
      const logStudent = distinct[c] === 1 ? studentLogProbs[base + single[c]] : Math.log(Math.max(student, residualFloor));
      categoryTerm(settings.divergence, settings.beta, mass[c], student, logStudent, term);
      total += term.value;
      slope[c] = term.slope;
      // Q·g computed as one product: forward KL's −P/Q·Q stays exact when Q underflows.
      meanSlope += settings.divergence === 'forward-kl' ? -mass[c] : student * term.slope;
    }
    for (let k = 0; k < width; k++) {
      if (owner[k] !== k) continue;
      const c = categoryOf[k];
      const student = studentProbs[base + k];
      // q_i·g_c: forward KL −P_c·q_i/Q_c (−P_c itself for a category of one id).
      const weighted = settings.divergence === 'forward-kl' ? (distinct[c] === 1 ? -mass[c] : studentMass[c] > 0 ? (-mass[c] * student) / studentMass[c] : 0) : student * slope[c];
      sparse[base + k] = weighted - student * residualSlope;
    }
    for (let k = 0; k < width; k++) slots[ids[base + k]] = -1;
    value[row] = total;
    dense[row] = residualSlope - meanSlope;
  }
  return { value, dense, sparse };
}

/** Log-softmax of one row of logits at a temperature, in float64. */
function logSoftmaxRow(logits: ArrayLike<number>, offset: number, vocab: number, temperature: number, out: Float64Array): void {
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) max = Math.max(max, logits[offset + i] / temperature);
  let sum = 0;
  for (let i = 0; i < vocab; i++) sum += Math.exp(logits[offset + i] / temperature - max);
  const logNormalizer = max + Math.log(sum);
  for (let i = 0; i < vocab; i++) out[i] = logits[offset + i] / temperature - logNormalizer;
}

export interface ReferenceInput {
  /** float [rows, vocab]. */
  logits: ArrayLike<number>;
  vocab: number;
  /** Next-token id per row. */
  labels: ArrayLike<number>;
  /** Row weights (1 counts, 0 is padding); omitted: all 1. */
  weights?: ArrayLike<number>;
  /** Omitted: cross-entropy only. */
  targets?: SoftTargets;
  settings?: DistillationSettings;
}

/**
 * The whole objective in float64 with a dense gradient: the definition an engine's
 * implementation is checked against (and a port starts from). Mean over weighted rows.
 */
export function distillationLossReference(input: ReferenceInput): { loss: number; gradient: Float64Array } {
  const { logits, vocab, labels, targets, settings } = input;
  const rows = labels.length;
  const weights = input.weights ?? new Float64Array(rows).fill(1);
  let weightSum = 0;
  for (let row = 0; row < rows; row++) weightSum += weights[row];
  weightSum = Math.max(weightSum, 1e-12);
  const gradient = new Float64Array(rows * vocab);
  const logProbs = new Float64Array(vocab);
  const logProbsAtTemperature = new Float64Array(vocab);
  const temperature = settings?.temperature ?? 1;
  const alpha = settings?.alpha ?? 0;
  let terms: DivergenceTerms | undefined;
  if (targets && settings) {
    const studentProbs = new Float64Array(rows * targets.width);
    const studentLogProbs = new Float64Array(rows * targets.width);
    for (let row = 0; row < rows; row++) {
      logSoftmaxRow(logits, row * vocab, vocab, temperature, logProbsAtTemperature);
      for (let k = 0; k < targets.width; k++) {
        const logProb = logProbsAtTemperature[targets.ids[row * targets.width + k]];
        studentLogProbs[row * targets.width + k] = logProb;
        studentProbs[row * targets.width + k] = Math.exp(logProb);
      }
    }
    terms = divergenceRows(targets, studentProbs, studentLogProbs, settings);
  }
  let loss = 0;
  for (let row = 0; row < rows; row++) {
    const scale = weights[row] / weightSum;
    const soft = terms !== undefined && targets!.present[row] === 1;
    const hardWeight = soft ? 1 - alpha : 1;
    logSoftmaxRow(logits, row * vocab, vocab, 1, logProbs);
    loss += scale * hardWeight * -logProbs[labels[row]];
    for (let i = 0; i < vocab; i++) gradient[row * vocab + i] = scale * hardWeight * Math.exp(logProbs[i]);
    gradient[row * vocab + labels[row]] -= scale * hardWeight;
    if (!soft) continue;
    // α·τ²·D, and ∂/∂logits = (1/τ)·∂/∂u: α·τ per unit of D's u-gradient.
    loss += scale * alpha * temperature * temperature * terms!.value[row];
    const softScale = scale * alpha * temperature;
    logSoftmaxRow(logits, row * vocab, vocab, temperature, logProbsAtTemperature);
    for (let i = 0; i < vocab; i++) gradient[row * vocab + i] += softScale * terms!.dense[row] * Math.exp(logProbsAtTemperature[i]);
    for (let k = 0; k < targets!.width; k++) {
      gradient[row * vocab + targets!.ids[row * targets!.width + k]] += softScale * terms!.sparse[row * targets!.width + k];
    }
  }
  return { loss, gradient };
}
