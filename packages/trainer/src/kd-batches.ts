// Training batches with teacher targets. Teacher rows come in parts (a `kd label` dataset's
// Parquet parts, or parts a teacher labels in memory); each part's documents are tokenized with
// the student's tokenizer, paired with the teacher's positions by character offsets, and joined
// into the part's own token stream. An epoch visits the parts in a seeded order, cut into groups
// of `shuffleParts` consecutive parts, and the windows of each group in a seeded order, so at
// most a group's parts are decoded at a time (memory bounded on any corpus) and micro-batch p is
// a pure function of (seed, p): a resumed run reads exactly the data an uninterrupted one would.
// Every window carries the teacher rows of its positions.
import type { LabelledDocument, SparseRows } from '@kd/compress';
import { alignPositions, type PrefixGroups } from '@kd/vocab-align';
import { TrainerError } from './errors.js';
import type { SoftTargets, TailTreatment } from './kd-divergence.js';
import { emptyTargets, narrowTargets, writeTarget } from './kd-targets.js';
import { epochOrder, windowCount } from './windows.js';

/** Where teacher rows come from: parts of labelled documents, readable in any order. */
export interface TeacherRowSource {
  readonly parts: number;
  /** The most ids a row keeps (online sources; a dataset's comes from its manifest). */
  readonly width?: number;
  /** Rows are sampled estimates (compression sampled or hybrid), not exact probabilities. */
  readonly sampled?: boolean;
  /**
   * Rows whose ids are already student ids (a source that folds the teacher's rows onto the
   * student vocabulary itself, e.g. full-distribution rows): the sampler maps them by identity.
   */
  readonly studentIds?: boolean;
  /** Called once with the run's vocabulary map before `width` is read or any part is: a source that folds onto student ids needs it. */
  useVocabulary?(teacherToStudent: Int32Array, studentVocabSize: number): void;
  part(index: number): Promise<LabelledDocument[]>;
  /** The texts of part `index` without their rows, where that is much cheaper (an online teacher): enough to count windows. */
  texts?(index: number): Promise<string[]>;
}

/** The student's framing of a text: BOS + tokens + EOS with UTF-16 spans (markers empty). */
export type StudentEncoder = (text: string) => Promise<{ ids: Uint32Array; offsets: Uint32Array }>;

export interface TeacherBatchOptions {
  sequenceLength: number;
  batchSize: number;
  seed: number;
  /** Teacher id → student id (the vocabulary map). */
  teacherToStudent: Int32Array;
  studentVocabSize: number;
  /** Entries per target row (the labels' k or kMax). */
  width: number;
  tail: TailTreatment;
  /** Rows are sampled estimates: scattered as they are (see writeTarget). */
  estimate?: boolean;
  /** Prefix groups of the vocabulary pair: targets by group (size `width` with groupedWidth). */
  groups?: PrefixGroups;
  /** Parts whose windows are shuffled together (1: each part's windows on their own). */
  shuffleParts: number;
}

/** One part as the student reads it. */
export interface StudentPart {
  /** Student tokens of the part's documents joined, each BOS + tokens + EOS. */
  tokens: Int32Array;
  /** Per token: the row of `rows` its position receives, or −1 (hard label only). */
  teacherRow: Int32Array;
  /** The teacher rows of the part's documents, concatenated. */
  rows: SparseRows;
  /** Student positions with a teacher row. */
  aligned: number;
}

/** Tokenizes and aligns one part's documents (the teacher rows stay sparse). */
export async function studentPart(documents: readonly LabelledDocument[], encode: StudentEncoder): Promise<StudentPart> {
  const encoded = await Promise.all(documents.map((document) => encode(document.text)));
  let tokenCount = 0;
  let rowCount = 0;
  let entryCount = 0;
  documents.forEach((document, index) => {
    tokenCount += encoded[index].ids.length;
    rowCount += document.rows.length;
    entryCount += document.rows.ids.length;
  });
  const tokens = new Int32Array(tokenCount);
  const teacherRow = new Int32Array(tokenCount);
  const rows: SparseRows = {
    length: rowCount,
    offsets: new Uint32Array(rowCount + 1),
    ids: new Uint32Array(entryCount),
    probs: new Float32Array(entryCount),
    tailMass: new Float32Array(rowCount),
  };
  let tokenAt = 0;
  let rowAt = 0;
  let entryAt = 0;
  let aligned = 0;
  documents.forEach((document, index) => {
    const student = encoded[index];
    const rowOf = alignPositions(document, student, document.rows.length);
    tokens.set(student.ids, tokenAt);
    for (let position = 0; position < rowOf.length; position++) {
      const row = rowOf[position];
      teacherRow[tokenAt + position] = row >= 0 ? rowAt + row : -1;
      if (row >= 0) aligned++;
    }
    const source = document.rows;
    for (let row = 0; row < source.length; row++) rows.offsets[rowAt + row + 1] = entryAt + source.offsets[row + 1];
    rows.ids.set(source.ids, entryAt);
    rows.probs.set(source.probs, entryAt);
    rows.tailMass.set(source.tailMass, rowAt);
    tokenAt += student.ids.length;
    rowAt += source.length;
    entryAt += source.ids.length;
  });
  return { tokens, teacherRow, rows, aligned };
}

function identityMap(size: number): Int32Array {
  const map = new Int32Array(size);
  for (let id = 0; id < size; id++) map[id] = id;
  return map;
}

/** A micro-batch: [batchSize, sequenceLength + 1] tokens and the targets of its batchSize × sequenceLength positions. */
export interface TeacherBatch {
  position: number;
  epoch: number;
  tokens: Int32Array;
  targets: SoftTargets;
  /** Per window: the part it comes from and its first token in the part's stream ([batchSize, 2]). */
  origins: Uint32Array;
}

/** Serves micro-batches with teacher targets from a row source, in seeded two-level order. */
export class TeacherBatchSampler {
  /** Windows per part (known after `open`). */
  private partWindows = new Uint32Array(0);
  private totalWindows = 0;
  private cachedEpoch = -1;
  private partOrder: Uint32Array = new Uint32Array(0);
  private partStarts = new Float64Array(0);
  private readonly groupSize: number;
  /** The window order of the group last read: [epoch, group] and its permutation of the group's windows. */
  private groupOrder: { epoch: number; group: number; order: Uint32Array } = { epoch: -1, group: -1, order: new Uint32Array(0) };
  private readonly loaded = new Map<number, { part: StudentPart; order: Uint32Array; epoch: number }>();
  private readonly slots: Int32Array;
  /** Full-width targets a batch is written into before narrowTargets (kept between batches; taken while one is being written). */
  private idleScratch: SoftTargets | undefined;
  /** Student tokens and aligned positions over the whole source (from the counting pass; aligned stays 0 for a source counted by its texts). */
  tokens = 0;
  alignedPositions = 0;

  constructor(
    private readonly source: TeacherRowSource,
    private readonly encode: StudentEncoder,
    private options: TeacherBatchOptions,
  ) {
    this.slots = new Int32Array(options.studentVocabSize).fill(-1);
    this.groupSize = options.shuffleParts;
    if (!Number.isInteger(this.groupSize) || this.groupSize < 1) throw new TrainerError('E_OPTIONS', `shuffleParts must be a positive integer, got ${options.shuffleParts}`);
    if (source.studentIds) this.options = { ...options, teacherToStudent: identityMap(options.studentVocabSize) };
    // A target row holds distinct student ids: no width beyond the student vocabulary is ever needed.
    if (this.options.width > options.studentVocabSize) this.options = { ...this.options, width: options.studentVocabSize };
  }

  get windows(): number {
    return this.totalWindows;
  }

  /** Entries per target row. */
  get width(): number {
    return this.options.width;
  }

  /** Counts each part's windows: one pass over the source, holding one part at a time. */
  async open(): Promise<void> {
    this.partWindows = new Uint32Array(this.source.parts);
    for (let index = 0; index < this.source.parts; index++) {
      let tokens: number;
      if (this.source.texts) {
        const encoded = await Promise.all((await this.source.texts(index)).map((text) => this.encode(text)));
        tokens = encoded.reduce((sum, one) => sum + one.ids.length, 0);
      } else {
        const part = await studentPart(await this.source.part(index), this.encode);
        tokens = part.tokens.length;
        this.alignedPositions += part.aligned;
      }
      this.partWindows[index] = windowCount(tokens, this.options.sequenceLength);
      this.totalWindows += this.partWindows[index];
      this.tokens += tokens;
    }
    if (this.totalWindows === 0) {
      throw new TrainerError('E_DATA', `the labelled documents give no window of ${this.options.sequenceLength + 1} student tokens within a part; lower the sequence length or label more text`);
    }
  }

  private epochLayout(epoch: number): void {
    if (epoch === this.cachedEpoch) return;
    this.partOrder = epochOrder(this.source.parts, this.options.seed, epoch);
    this.partStarts = new Float64Array(this.source.parts + 1);
    for (let rank = 0; rank < this.source.parts; rank++) this.partStarts[rank + 1] = this.partStarts[rank] + this.partWindows[this.partOrder[rank]];
    this.cachedEpoch = epoch;
  }

  private async partFor(index: number, epoch: number): Promise<{ part: StudentPart; order: Uint32Array }> {
    const held = this.loaded.get(index);
    if (held && held.epoch === epoch) {
      // Most recently used last: the parts of the group being read stay while older ones go.
      this.loaded.delete(index);
      this.loaded.set(index, held);
      return held;
    }
    const part = held?.part ?? (await studentPart(await this.source.part(index), this.encode));
    // Each part's windows in an order of their own per epoch (seed mixed with the part index).
    const order = epochOrder(this.partWindows[index], (this.options.seed ^ Math.imul(index + 1, 0x2545f491)) >>> 0, epoch);
    const entry = { part, order, epoch };
    // A batch spans at most two groups, read in order: the group's parts and one more are kept.
    this.loaded.delete(index);
    this.loaded.set(index, entry);
    while (this.loaded.size > this.groupSize + 1) this.loaded.delete(this.loaded.keys().next().value!);
    return entry;
  }

  /** Window `offset` of the epoch (in its order) as a part and a window of that part. */
  private async windowAt(offset: number, epoch: number): Promise<{ partIndex: number; part: StudentPart; window: number }> {
    // Groups of groupSize consecutive ranks of the part order; a group's windows in one seeded order per (epoch, group).
    const parts = this.source.parts;
    let group = 0;
    while (this.partStarts[Math.min(parts, (group + 1) * this.groupSize)] <= offset) group++;
    const first = group * this.groupSize;
    const last = Math.min(parts, first + this.groupSize);
    if (last - first === 1) {
      // A group of one part (every group when groupSize is 1): the part's own window order.
      const partIndex = this.partOrder[first];
      const { part, order } = await this.partFor(partIndex, epoch);
      return { partIndex, part, window: order[offset - this.partStarts[first]] };
    }
    if (this.groupOrder.epoch !== epoch || this.groupOrder.group !== group) {
      const seed = (this.options.seed ^ Math.imul(group + 1, 0x2545f491) ^ 0x5bd1e995) >>> 0;
      this.groupOrder = { epoch, group, order: epochOrder(this.partStarts[last] - this.partStarts[first], seed, epoch) };
    }
    const within = this.partStarts[first] + this.groupOrder.order[offset - this.partStarts[first]];
    let rank = first;
    while (this.partStarts[rank + 1] <= within) rank++;
    const partIndex = this.partOrder[rank];
    const { part } = await this.partFor(partIndex, epoch);
    return { partIndex, part, window: within - this.partStarts[rank] };
  }

  /** Micro-batch `position` (0, 1, …). */
  async batchAt(position: number): Promise<TeacherBatch> {
    const { sequenceLength, batchSize, teacherToStudent, tail } = this.options;
    const width = sequenceLength + 1;
    const tokens = new Int32Array(batchSize * width);
    const scratch = this.idleScratch ?? emptyTargets(batchSize * sequenceLength, this.options.width, this.options.groups !== undefined);
    this.idleScratch = undefined;
    const counts = new Uint32Array(batchSize * sequenceLength);
    const origins = new Uint32Array(batchSize * 2);
    let epoch = 0;
    for (let row = 0; row < batchSize; row++) {
      const global = position * batchSize + row;
      epoch = Math.floor(global / this.totalWindows);
      const offset = global % this.totalWindows;
      this.epochLayout(epoch);
      const { partIndex, part, window } = await this.windowAt(offset, epoch);
      const start = window * sequenceLength;
      tokens.set(part.tokens.subarray(start, start + width), row * width);
      origins[2 * row] = partIndex;
      origins[2 * row + 1] = start;
      for (let index = 0; index < sequenceLength; index++) {
        const teacherRow = part.teacherRow[start + index];
        const at = row * sequenceLength + index;
        if (teacherRow >= 0) counts[at] = writeTarget(part.rows, teacherRow, teacherToStudent, tail, scratch, at, this.slots, this.options.estimate, this.options.groups, false);
      }
    }
    const targets = narrowTargets(scratch, counts);
    this.idleScratch = scratch;
    return { position, epoch, tokens, targets, origins };
  }
}
