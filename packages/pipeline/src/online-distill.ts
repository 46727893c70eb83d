// Online distillation: the teacher labels the corpus in the loop and the trainer learns from
// its rows as they come, with no files between. The same corpus, compression, quantization,
// part size and seed give the same student as `kd label` followed by training on the labels.
import type { QuantizationScheme } from '@kd/codec-parquet';
import { train, type TrainHooks, type TrainOptionsInput, type TrainResult } from '@kd/trainer';
import { PipelineError } from './errors.js';
import { openOnlineTeacherRows, type OnlineCompression } from './online-rows.js';

export interface OnlineDistillOptions {
  /** What the teacher keeps per position (as `kd label`'s compression), or `{ mode: 'full' }`: every probability, mapped onto the student vocabulary. */
  compression: OnlineCompression;
  /** Default: the codec's default, so the rows equal a dataset's; `none` keeps float32 rows. */
  quantization?: QuantizationScheme | 'none';
  /** Token positions per part (as the dataset writer's rowsPerPart); parts set the data order. */
  rowsPerPart?: number;
  temperature?: number;
  batchSize?: number;
  window?: number;
  stride?: number;
  threads?: number;
}

/** Training hooks, and one for the teacher in the loop. */
export interface OnlineDistillHooks extends TrainHooks {
  /** Called after the teacher labelled a part (each time an epoch visits it): its index, token positions and seconds taken. */
  onTeacherPart?: (part: { index: number; positions: number; seconds: number }) => void;
}

/** Trains a student with objective kd from a teacher running in the loop over `options.corpus`. */
export async function distillOnline(options: TrainOptionsInput, online: OnlineDistillOptions, hooks: OnlineDistillHooks = {}): Promise<TrainResult> {
  if (options.teacher === undefined || options.corpus === undefined) {
    throw new PipelineError('E_OPTIONS', 'online distillation needs teacher (the teacher folder) and corpus (the text it labels)');
  }
  const { onTeacherPart, ...trainHooks } = hooks;
  const rows = await openOnlineTeacherRows({
    teacher: options.teacher,
    corpus: options.corpus,
    tasks: options.tasks,
    limit: options.limit,
    compression: online.compression,
    quantization: online.quantization,
    rowsPerPart: online.rowsPerPart,
    temperature: online.temperature,
    batchSize: online.batchSize,
    window: online.window,
    stride: online.stride,
    threads: online.threads,
    onPart: onTeacherPart,
  });
  try {
    return await train({ ...options, objective: 'kd', teacherTokenizer: options.teacherTokenizer ?? rows.teacherTokenizer }, trainHooks, { teacherRows: rows });
  } finally {
    await rows.close();
  }
}
