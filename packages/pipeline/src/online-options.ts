// The teacher-side options of online distillation (what `kd label` would otherwise be told),
// declared once: `kd train --teacher` derives its online flags and config keys from this schema.
import { z } from 'zod';
import { quantizationSchemes, type QuantizationScheme } from '@kd/codec-parquet';
import { compressionSpecSchema } from '@kd/compress';
import { defaultOnlineRowsPerPart } from './online-rows.js';

/** Every teacher probability, nothing selected: the whole softmax at τ mapped onto the student vocabulary (the upper reference of compressed rows). */
const fullDistributionSchema = z.object({ mode: z.literal('full') }).strict();

/** `kd label`'s compression modes, and `full` (online only: no dataset could hold its rows). */
const onlineCompressionSchema = z
  .discriminatedUnion('mode', [...compressionSpecSchema.options, fullDistributionSchema])
  .describe('which probabilities the teacher keeps per position; full: all of them (the whole softmax mapped onto the student vocabulary, never quantized)');

export const onlineDistillOptionsSchema = z
  .object({
    compression: onlineCompressionSchema.default({ mode: 'adaptive', p: 0.95, kMin: 1, kMax: 64 }),
    quantization: z
      .enum(['none', ...quantizationSchemes] as [QuantizationScheme | 'none', ...(QuantizationScheme | 'none')[]])
      .optional()
      .describe("the quantization round trip a dataset would apply (default: the codec's; none with compression full); none keeps the teacher's float32 rows"),
    rowsPerPart: z.number().int().min(1).default(defaultOnlineRowsPerPart).describe('token positions per part (as a dataset writer cuts them): parts set the data order'),
    temperature: z.number().positive().finite().default(1).describe("the teacher's softmax temperature τ"),
    batchSize: z.number().int().min(1).optional().describe('most windows per teacher batch'),
    window: z.number().int().min(2).optional().describe("the teacher's context window in tokens"),
    stride: z.number().int().min(1).optional().describe('new tokens per teacher window for long documents'),
    threads: z.number().int().min(1).optional().describe('onnxruntime intra-op threads of the teacher'),
  })
  .strict();

export type OnlineDistillOptionsInput = z.input<typeof onlineDistillOptionsSchema>;
