// Online distillation's teacher rows: the teacher labels the corpus in the loop, one part at a
// time, with the selection, the quantization round trip and the part boundaries a `kd label`
// dataset of the same corpus would have, so the trainer sees exactly the rows it would read
// offline and trains the same student. Nothing is written; a part is labelled again whenever
// an epoch visits it, and only the part being read is held in memory. Full-distribution rows
// (compression mode `full`) keep every teacher probability instead: the whole softmax at τ,
// folded onto the student's ids through the run's vocabulary map as it is read, so a row holds
// one entry per distinct mapped student id (6,564 for the 32k teacher and the 8k example
// student) rather than one per teacher id, and no quantization touches it.
import { defaultQuantization, roundTripRows, type QuantizationScheme } from '@kd/codec-parquet';
import type { CompressionSpec, LabelledDocument } from '@kd/compress';
import { loadTeacher, type DistributionFold, type Teacher } from '@kd/teacher';
import { readCorpus, type CorpusDocument, type CorpusTask } from '@kd/text';
import type { TeacherRowSource } from '@kd/trainer';
import { PipelineError } from './errors.js';

/** The parts a dataset writer cuts: a part closes after the document that brings it to `rowsPerPart` token positions. */
export const defaultOnlineRowsPerPart = 262_144;

export interface OnlineTeacherOptions {
  /** The teacher folder (model.onnx + tokenizer.json). */
  teacher: string;
  corpus: string;
  tasks?: readonly CorpusTask[];
  limit?: number;
  /** What the teacher keeps per position, as `kd label` would, or `full`: every probability. */
  compression: OnlineCompression;
  temperature?: number;
  /** The quantization a dataset would apply (default the codec's); `none` keeps the teacher's float32 rows. */
  quantization?: QuantizationScheme | 'none';
  /** Token positions per part, as the dataset writer's rowsPerPart. */
  rowsPerPart?: number;
  batchSize?: number;
  window?: number;
  stride?: number;
  threads?: number;
  /** Called after each part is labelled: its index, token positions and seconds taken. */
  onPart?: (part: { index: number; positions: number; seconds: number }) => void;
}

export interface OnlineTeacherRows extends TeacherRowSource {
  /** The teacher's tokenizer.json (what the labels are in). */
  readonly teacherTokenizer: string;
  /** Documents per part, in corpus order. */
  readonly partDocuments: readonly [number, number][];
  close(): Promise<void>;
}

/** Full-distribution rows: nothing selected, every teacher probability mapped onto the student vocabulary. */
export interface FullDistribution {
  mode: 'full';
}

/** What an online teacher keeps per position: a compression setting of `kd label`, or everything. */
export type OnlineCompression = CompressionSpec | FullDistribution;

/**
 * Teacher id → column of its student id (distinct student ids ascending), over the `teacherVocabSize`
 * ids of the teacher's logits; unmapped ids (−1, or embedding padding beyond the map) fold into the tail.
 */
export function studentFold(teacherToStudent: Int32Array, studentVocabSize: number, teacherVocabSize = teacherToStudent.length): DistributionFold {
  const columnOfStudent = new Int32Array(studentVocabSize).fill(-1);
  for (const studentId of teacherToStudent) if (studentId >= 0 && studentId < studentVocabSize) columnOfStudent[studentId] = 0;
  const ids: number[] = [];
  for (let studentId = 0; studentId < studentVocabSize; studentId++) if (columnOfStudent[studentId] === 0) columnOfStudent[studentId] = ids.push(studentId) - 1;
  const columnOf = new Int32Array(teacherVocabSize).fill(-1);
  for (let teacherId = 0; teacherId < Math.min(teacherVocabSize, teacherToStudent.length); teacherId++) {
    const studentId = teacherToStudent[teacherId];
    if (studentId >= 0 && studentId < studentVocabSize) columnOf[teacherId] = columnOfStudent[studentId];
  }
  return { columnOf, ids: Uint32Array.from(ids) };
}

function widthOf(spec: CompressionSpec): number {
  switch (spec.mode) {
    case 'fixed':
      return spec.k;
    case 'adaptive':
      return spec.kMax;
    case 'sampled':
      return spec.samples;
    case 'hybrid':
      return spec.kMax + spec.samples;
  }
}

async function* documentsIn(options: OnlineTeacherOptions, first: number, last: number): AsyncGenerator<CorpusDocument> {
  for await (const document of readCorpus(options.corpus, { tasks: options.tasks, limit: options.limit })) {
    if (document.index > last) return;
    if (document.index >= first) yield document;
  }
}

/** Loads the teacher and finds the part boundaries (tokenizing only); `part(i)` then labels part i in memory. */
export async function openOnlineTeacherRows(options: OnlineTeacherOptions): Promise<OnlineTeacherRows> {
  const compression = options.compression;
  const full = compression.mode === 'full';
  if (full && options.quantization !== undefined && options.quantization !== 'none') {
    throw new PipelineError('E_OPTIONS', `quantization ${options.quantization} does not apply to compression mode full: full-distribution rows are the teacher's float32 softmax, never quantized; leave quantization out (or none)`);
  }
  const teacher: Teacher = await loadTeacher(options.teacher, { temperature: options.temperature, threads: options.threads });
  try {
    const rowsPerPart = options.rowsPerPart ?? defaultOnlineRowsPerPart;
    const parts: [number, number][] = [];
    let first = -1;
    let tokens = 0;
    let last = -1;
    for await (const document of readCorpus(options.corpus, { tasks: options.tasks, limit: options.limit })) {
      if (first < 0) first = document.index;
      // The document as the teacher frames it for labelling (BOS + tokens + EOS).
      tokens += (await teacher.tokenizer.frame(document.text)).ids.length;
      last = document.index;
      if (tokens >= rowsPerPart) {
        parts.push([first, last]);
        first = -1;
        tokens = 0;
      }
    }
    if (first >= 0) parts.push([first, last]);
    if (parts.length === 0) throw new PipelineError('E_CORPUS', `${options.corpus} holds no documents to label`);
    const quantization = options.quantization ?? defaultQuantization;
    const windowing = { batchSize: options.batchSize, window: options.window, stride: options.stride };
    let fold: DistributionFold | undefined;
    const labelPart = (documents: AsyncIterable<CorpusDocument>): AsyncGenerator<LabelledDocument> => {
      if (compression.mode !== 'full') return teacher.label(documents, { ...windowing, spec: compression });
      if (!fold) throw new PipelineError('E_OPTIONS', 'full-distribution rows fold onto the student vocabulary: useVocabulary(teacherToStudent, studentVocabSize) must be called before a part is read');
      return teacher.labelFull(documents, { ...windowing, fold });
    };
    return {
      parts: parts.length,
      get width() {
        if (compression.mode !== 'full') return widthOf(compression);
        return fold?.ids.length;
      },
      sampled: compression.mode === 'sampled' || compression.mode === 'hybrid',
      studentIds: full,
      useVocabulary(teacherToStudent, studentVocabSize) {
        if (full) fold = studentFold(teacherToStudent, studentVocabSize, teacher.vocabSize);
      },
      teacherTokenizer: `${options.teacher.replace(/\/$/, '')}/tokenizer.json`,
      partDocuments: parts,
      async part(index) {
        const range = parts[index];
        if (range === undefined) throw new PipelineError('E_OPTIONS', `part ${index} does not exist: the corpus makes ${parts.length} parts`);
        const started = performance.now();
        const labelled: LabelledDocument[] = [];
        let positions = 0;
        for await (const document of labelPart(documentsIn(options, range[0], range[1]))) {
          labelled.push(full || quantization === 'none' ? document : { ...document, rows: roundTripRows(document.rows, quantization) });
          positions += document.rows.length;
        }
        options.onPart?.({ index, positions, seconds: (performance.now() - started) / 1000 });
        return labelled;
      },
      async texts(index) {
        const range = parts[index]!;
        const texts: string[] = [];
        for await (const document of documentsIn(options, range[0], range[1])) texts.push(document.text);
        return texts;
      },
      close: () => teacher.close(),
    };
  } catch (error) {
    await teacher.close();
    throw error;
  }
}
