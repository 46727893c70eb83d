// The options of `labelCorpus`, declared once: config files and the CLI's flags derive from
// this schema (names, descriptions, defaults, choices), so a library caller and a command-line
// user speak the same words.
import { z } from 'zod';
import { quantizationSchemes, type QuantizationScheme } from '@kd/codec-parquet';
import { compressionSpecSchema } from '@kd/compress';
import { teacherDevices } from '@kd/teacher';
import { corpusTasks, type CorpusTask } from '@kd/text';
import { shardPattern } from './shard.js';

export const labelOptionsSchema = z
  .object({
    teacher: z.string().min(1).describe('teacher folder: model.onnx (or onnx/model.onnx) + tokenizer.json'),
    corpus: z.string().min(1).describe('corpus: a .jsonl (text/code/classify/translate records) or .txt file, or a folder of them'),
    out: z.string().min(1).describe('dataset folder to write (run again on the same folder to resume)'),
    compression: compressionSpecSchema.default({ mode: 'adaptive', p: 0.95, kMin: 1, kMax: 64 }),
    temperature: z.number().positive().finite().default(1).describe('softmax temperature τ'),
    batchSize: z.number().int().min(1).default(64).describe('most windows per teacher batch'),
    batchTokens: z.number().int().min(1).optional().describe('most positions per teacher batch, padding included (default 2048)'),
    window: z.number().int().min(2).optional().describe("context window in tokens (default: min(the model's context, 1024))"),
    stride: z.number().int().min(1).optional().describe('new tokens per window for long documents (default: window / 2)'),
    rowsPerPart: z.number().int().min(1).default(262_144).describe('target token rows per Parquet part'),
    limit: z.number().int().min(0).optional().describe('label only the first n documents (after the task filter)'),
    tasks: z.array(z.enum(corpusTasks as readonly CorpusTask[] as [CorpusTask, ...CorpusTask[]])).min(1).optional().describe('label only these tasks'),
    quantization: z
      .enum(quantizationSchemes as [QuantizationScheme, ...QuantizationScheme[]])
      .optional()
      .describe("probability quantization (default: u8-log, or the dataset's own on resume)"),
    threads: z.number().int().min(1).default(2).describe('onnxruntime intra-op threads'),
    device: z.enum(teacherDevices).default('cpu').describe("onnxruntime execution provider of the teacher (cuda: onnxruntime-node's CUDA provider, installed separately)"),
    shard: z
      .string()
      .regex(shardPattern, 'must read I/N or /N')
      .optional()
      .describe('label only shard I of N (from 0) into out/shard-IIII-of-NNNN, documents assigned by a hash of their id; /N takes I from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID'),
  })
  .strict();

export type LabelOptionsInput = z.input<typeof labelOptionsSchema>;
export type LabelOptions = z.output<typeof labelOptionsSchema>;
