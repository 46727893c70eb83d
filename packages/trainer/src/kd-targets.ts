// Teacher targets over the student's vocabulary, as the seed says: per aligned position an
// empty vector over the aligned vocabulary, each kept teacher probability added at its mapped
// student id (collisions add), normalized. Stored sparse (the distinct ids of the row and
// their mass) in one row of a batch's SoftTargets; the tail mass is either renormalized away
// or kept as the residual category (`bucket`). With prefix groups a kept probability goes to
// its mapped id's group instead: the row lists every student id of the groups it touches, and
// each group's mass sits on its first entry (the category the objective compares).
import type { CompressionSpec, SparseRows } from '@kd/compress';
import type { PrefixGroups } from '@kd/vocab-align';
import type { SoftTargets, TailTreatment } from './kd-divergence.js';
import { TrainerError } from './errors.js';

/** Entries per target row a compression setting needs: at most one per kept (or drawn) teacher id. */
export function targetWidth(compression: CompressionSpec): number {
  switch (compression.mode) {
    case 'fixed':
      return compression.k;
    case 'adaptive':
      return compression.kMax;
    case 'sampled':
      return compression.samples;
    case 'hybrid':
      return compression.kMax + compression.samples;
  }
}

/** Empty targets for `rows` rows of `width` entries (every row absent until written); `grouped` adds the category of each entry. */
export function emptyTargets(rows: number, width: number, grouped = false): SoftTargets {
  return {
    rows,
    width,
    ids: new Int32Array(rows * width),
    probs: new Float32Array(rows * width),
    residual: new Float32Array(rows),
    present: new Uint8Array(rows),
    ...(grouped ? { category: new Int32Array(rows * width) } : {}),
  };
}

/**
 * Writes teacher row `row` of `rows` as target row `at`: mapped through `teacherToStudent`,
 * collisions merged, normalized to Σ = 1 (renormalize) or Σ + residual = 1 (bucket).
 * With `estimate` (sampled and hybrid rows: importance-weighted estimates whose scatter is an
 * unbiased estimate of the whole distribution) nothing is normalized and no residual is kept:
 * renormalizing would bias the estimate, and forward KL is linear in the teacher, so its
 * gradient stays unbiased. `slots` is scratch of the student vocabulary's length filled with −1
 * (left so on return). With `groups` (targets made by emptyTargets(…, true)) each probability
 * goes to its student id's prefix group: the group's ids are listed once, its mass on the first.
 * Returns the row's entry count (0: the row is absent). The entries after it are padded to the
 * targets' width, or with `pad` false left as they are for narrowTargets to pad.
 */
export function writeTarget(
  rows: Pick<SparseRows, 'offsets' | 'ids' | 'probs' | 'tailMass'>,
  row: number,
  teacherToStudent: Int32Array,
  tail: TailTreatment,
  targets: SoftTargets,
  at: number,
  slots: Int32Array,
  estimate = false,
  groups?: PrefixGroups,
  pad = true,
): number {
  const { width } = targets;
  const base = at * width;
  const start = rows.offsets[row];
  const end = rows.offsets[row + 1];
  let count = 0;
  let kept = 0;
  for (let entry = start; entry < end; entry++) {
    const teacherId = rows.ids[entry];
    const studentId = teacherId < teacherToStudent.length ? teacherToStudent[teacherId] : -1;
    if (studentId < 0 || studentId >= slots.length) {
      throw new TrainerError('E_DATA', `teacher id ${teacherId} has no student id in the vocabulary map; the labels were made with another teacher tokenizer than the map's`);
    }
    const probability = rows.probs[entry];
    kept += probability;
    if (groups) {
      const group = groups.studentGroup[studentId];
      count = openGroup(groups, group, targets, base, count, slots);
      targets.probs[base + slots[groups.members[groups.offsets[group]]]] += probability;
      continue;
    }
    const slot = slots[studentId];
    if (slot >= 0) {
      targets.probs[base + slot] += probability;
      continue;
    }
    if (count === width) throw new TrainerError('E_DATA', `a teacher row keeps more than ${width} ids; size the targets to the dataset's kMax or k`);
    slots[studentId] = count;
    targets.ids[base + count] = studentId;
    targets.probs[base + count] = probability;
    count++;
  }
  for (let k = 0; k < count; k++) slots[targets.ids[base + k]] = -1;
  if (count === 0 || kept <= 0) {
    targets.present[at] = 0;
    return 0;
  }
  const tailMass = !estimate && tail === 'bucket' ? Math.max(0, rows.tailMass[row]) : 0;
  const total = estimate ? 1 : kept + tailMass;
  for (let k = 0; k < count; k++) targets.probs[base + k] /= total;
  if (pad) padRow(targets, base, count, width);
  targets.residual[at] = tailMass / total;
  targets.present[at] = 1;
  return count;
}

/** Entries [count, width) of the row at `base`: the first id again with no mass, so they add no category (see SoftTargets). */
function padRow(targets: SoftTargets, base: number, count: number, width: number): void {
  const { ids, probs, category } = targets;
  ids.fill(ids[base], base + count, base + width);
  probs.fill(0, base + count, base + width);
  category?.fill(category[base], base + count, base + width);
}

/**
 * The rows of `targets` (written by writeTarget with `pad` false; `counts` its return per row)
 * in the fewest entries per row that hold the longest, rounded up to a multiple of `multiple`
 * (at most the targets' width) and padded. Prefix-group rows are sized for the largest groups a
 * row could touch (hundreds of entries) but hold a few dozen: the objective's passes over
 * [rows, width] shrink with it.
 */
export function narrowTargets(targets: SoftTargets, counts: Uint32Array, multiple = 16): SoftTargets {
  let longest = 1;
  for (let row = 0; row < targets.rows; row++) longest = Math.max(longest, counts[row]);
  const width = Math.min(targets.width, Math.ceil(longest / multiple) * multiple);
  const narrow: SoftTargets = { ...emptyTargets(targets.rows, width, targets.category !== undefined), lengths: new Uint32Array(targets.rows) };
  for (let row = 0; row < targets.rows; row++) {
    const count = counts[row];
    if (count === 0) continue;
    const from = row * targets.width;
    const base = row * width;
    narrow.ids.set(targets.ids.subarray(from, from + count), base);
    narrow.probs.set(targets.probs.subarray(from, from + count), base);
    narrow.category?.set(targets.category!.subarray(from, from + count), base);
    padRow(narrow, base, count, width);
    narrow.lengths![row] = count;
    narrow.residual[row] = targets.residual[row];
    narrow.present[row] = 1;
  }
  return narrow;
}

/** Lists prefix group `group`'s student ids in the row (once: a listed group is left as it is); returns the row's entry count. */
function openGroup(groups: PrefixGroups, group: number, targets: SoftTargets, base: number, count: number, slots: Int32Array): number {
  const start = groups.offsets[group];
  const end = groups.offsets[group + 1];
  if (slots[groups.members[start]] >= 0) return count;
  if (count + end - start > targets.width) {
    throw new TrainerError('E_DATA', `a teacher row's prefix groups hold more than ${targets.width} student ids; size the targets with groupedWidth`);
  }
  const head = count;
  for (let at = start; at < end; at++) {
    const id = groups.members[at];
    slots[id] = count;
    targets.ids[base + count] = id;
    targets.probs[base + count] = 0;
    targets.category![base + count] = head;
    count++;
  }
  return count;
}

/** Marks target row `at` as absent (hard label only). */
export function clearTarget(targets: SoftTargets, at: number): void {
  const base = at * targets.width;
  targets.ids.fill(0, base, base + targets.width);
  targets.probs.fill(0, base, base + targets.width);
  targets.category?.fill(0, base, base + targets.width);
  targets.residual[at] = 0;
  targets.present[at] = 0;
}
