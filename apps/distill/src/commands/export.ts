// `kd export`: turns a training run's checkpoint into a folder in the onnx-community layout
// (onnx/model.onnx with a KV cache, model.safetensors, config.json, tokenizer files, templates).
// The flags are @kd/trainer's export options plus the two folders.
import type { Command } from 'commander';
import { z } from 'zod';
import { exportModel, exportOptionsSchema } from '@kd/trainer';
import { defineCommand } from '../define-command.js';

export const exportCommandSchema = exportOptionsSchema
  .extend({
    checkpoint: z.string().min(1).describe('run folder of kd train (or its checkpoint/ folder)'),
    out: z.string().min(1).describe('folder to write: onnx/model.onnx, model.safetensors, config.json, tokenizer.json, …'),
  })
  .strict();

const ownSchema = z
  .object({
    json: z.boolean().optional().describe('print the summary as one JSON object on stdout'),
  })
  .strict();

export type ExportCommandOptions = z.output<typeof exportCommandSchema>;

export async function runExport(options: ExportCommandOptions, own: { json?: boolean }, log: (line: string) => void = console.log): Promise<void> {
  const { checkpoint, out, ...exportOptions } = options;
  const result = await exportModel(checkpoint, out, exportOptions);
  if (own.json) log(JSON.stringify({ out: result.dir, files: result.files, recovered: result.recovered }));
  else {
    for (const line of result.recovered) log(line);
    log(`exported ${checkpoint} → ${result.dir}: ${result.files.join(', ')}`);
  }
}

export function exportCommand(): Command {
  return defineCommand({
    name: 'export',
    description: 'Export a trained student as ONNX + safetensors in the Hugging Face layout',
    library: exportCommandSchema,
    own: ownSchema,
    examples: [
      'kd export --checkpoint out/student --out out/student-onnx',
      "# then, e.g. with transformers.js: AutoModelForCausalLM.from_pretrained('student-onnx') with env.localModelPath = 'out/'",
    ],
    run: (options, own) => runExport(options, own),
  });
}
