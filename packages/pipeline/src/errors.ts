// The one error class of @kd/pipeline: every failure carries a stable code and a message that
// says what was expected, what was found and what to do. Errors of the packages it drives
// (TeacherError, CodecError, CompressError) pass through with their own codes.

export type PipelineErrorCode =
  /** Options that do not match the schema (unknown key, wrong type, out of range). */
  | 'E_OPTIONS'
  /** The corpus path does not exist. */
  | 'E_CORPUS'
  /** The student folder holds neither an exported model nor a training checkpoint. */
  | 'E_STUDENT'
  /** A dataset folder was labelled from another corpus or with other settings than this run's. */
  | 'E_RESUME_MISMATCH'
  /** A shard of a sharded labelling run is not under the root being merged. */
  | 'E_SHARD_MISSING'
  /** Two shard folders hold the same shard. */
  | 'E_SHARD_DUPLICATE'
  /** Shards that do not belong together: other split, corpus or settings, or a folder that is no shard. */
  | 'E_SHARD_MISMATCH';

export class PipelineError extends Error {
  readonly code: PipelineErrorCode;
  constructor(code: PipelineErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PipelineError';
    this.code = code;
  }
}
