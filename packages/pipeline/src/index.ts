// Public API of @kd/pipeline: the steps of distillation as library calls over the teacher,
// compression, the codec and the trainer.
export { labelCorpus } from './label-corpus.js';
export type { LabelHooks, LabelProgress, LabelStart, LabelSummary } from './label-corpus.js';
export { labelOptionsSchema } from './label-options.js';
export type { LabelOptions, LabelOptionsInput } from './label-options.js';
export { distillOnline, type OnlineDistillHooks, type OnlineDistillOptions } from './online-distill.js';
export { onlineDistillOptionsSchema, type OnlineDistillOptionsInput } from './online-options.js';
export { openOnlineTeacherRows, defaultOnlineRowsPerPart, type FullDistribution, type OnlineCompression, type OnlineTeacherOptions, type OnlineTeacherRows } from './online-rows.js';
export { evaluateStudent } from './evaluate.js';
export type { EvaluateHooks, EvaluateProgress, EvaluationResult } from './evaluate.js';
export { evaluateOptionsSchema } from './evaluate-options.js';
export type { EvaluateOptions, EvaluateOptionsInput } from './evaluate-options.js';
export { lossChart, renderReport, writeReport } from './report.js';
export type { ReportInput, ReportLabels } from './report.js';
export { mergeShards, type MergeSummary } from './merge-shards.js';
export { parseShard, shardFolderName, shardOfKey, shardIndexVariables, type Shard } from './shard.js';
export { PipelineError } from './errors.js';
export type { PipelineErrorCode } from './errors.js';
