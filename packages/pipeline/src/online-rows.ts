// Online distillation's teacher rows: the teacher labels the corpus in the loop, one part at a
// time, with the selection, the quantization round trip and the part boundaries a `kd label`
// dataset of the same corpus would have, so the trainer sees exactly the rows it would read
// offline and trains the same student. Nothing is written; a part is labelled again whenever
// an epoch visits it, and only the part being read is held in memory.
import { defaultQuantization, roundTripRows, type QuantizationScheme } from '@kd/codec-parquet';
import type { CompressionSpec, LabelledDocument } from '@kd/compress';
import { loadTeacher, type Teacher } from '@kd/teacher';
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
  /** What the teacher keeps per position, as `kd label` would. */
  compression: CompressionSpec;
  temperature?: number;
  /** The quantization a dataset would apply (default the codec's); `none` keeps the teacher's float32 rows. */
  quantization?: QuantizationScheme | 'none';
  /** Token positions per part, as the dataset writer's rowsPerPart. */
  rowsPerPart?: number;
  batchSize?: number;
  window?: number;
  stride?: number;
  threads?: number;
}

export interface OnlineTeacherRows extends TeacherRowSource {
  /** The teacher's tokenizer.json (what the labels are in). */
  readonly teacherTokenizer: string;
  /** Documents per part, in corpus order. */
  readonly partDocuments: readonly [number, number][];
  close(): Promise<void>;
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
  const width = widthOf(options.compression);
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
    const labelOptions = { spec: options.compression, batchSize: options.batchSize, window: options.window, stride: options.stride };
    return {
      parts: parts.length,
      width,
      sampled: options.compression.mode === 'sampled' || options.compression.mode === 'hybrid',
      teacherTokenizer: `${options.teacher.replace(/\/$/, '')}/tokenizer.json`,
      partDocuments: parts,
      async part(index) {
        const range = parts[index];
        if (range === undefined) throw new PipelineError('E_OPTIONS', `part ${index} does not exist: the corpus makes ${parts.length} parts`);
        const labelled: LabelledDocument[] = [];
        for await (const document of teacher.label(documentsIn(options, range[0], range[1]), labelOptions)) {
          labelled.push(quantization === 'none' ? document : { ...document, rows: roundTripRows(document.rows, quantization) });
        }
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
