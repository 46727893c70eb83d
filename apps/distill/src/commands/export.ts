// `kd export`: turns a training run's checkpoint into a folder in the onnx-community layout
// (onnx/model.onnx with a KV cache, model.safetensors, config.json, tokenizer files, templates).
import { Command } from 'commander';
import { z } from 'zod';
import { exportModel } from '@kd/trainer';
import { applyConfigFile } from '../config.js';
import { validateOptions } from '../validate.js';

const exportSchema = z.object({
  checkpoint: z.string({ error: 'is required: a run folder of kd train (or its checkpoint/ folder)' }),
  out: z.string({ error: 'is required: the folder to write the exported model to' }),
  tokenizer: z.string().optional(),
  overwrite: z.boolean().optional(),
  json: z.boolean().optional(),
});
export type ExportCommandOptions = z.infer<typeof exportSchema>;

export async function runExport(options: ExportCommandOptions, log: (line: string) => void = console.log): Promise<void> {
  const result = await exportModel(options.checkpoint, options.out, { tokenizer: options.tokenizer, overwrite: options.overwrite ?? false });
  if (options.json) log(JSON.stringify({ out: result.dir, files: result.files, recovered: result.recovered }));
  else {
    for (const line of result.recovered) log(line);
    log(`exported ${options.checkpoint} → ${result.dir}: ${result.files.join(', ')}`);
  }
}

export function exportCommand(): Command {
  return new Command('export')
    .description('Export a trained student as ONNX + safetensors in the Hugging Face layout')
    .option('--config <file>', 'JSON file of flag values (flags given here win)')
    .option('--checkpoint <dir>', 'run folder of kd train (or its checkpoint/ folder)')
    .option('--out <dir>', 'folder to write: onnx/model.onnx, model.safetensors, config.json, tokenizer.json, …')
    .option('--tokenizer <file>', 'ship this tokenizer.json instead of the one saved with the checkpoint')
    .option('--overwrite', 'replace an earlier export in --out (only a folder kd export wrote; never the run itself, the working directory or other files)')
    .option('--json', 'print the summary as one JSON object')
    .addHelpText(
      'after',
      `
Example:
  kd export --checkpoint out/student --out out/student-onnx
  # then, e.g. with transformers.js: AutoModelForCausalLM.from_pretrained('student-onnx') with env.localModelPath = 'out/'`,
    )
    .hook('preAction', (command) => applyConfigFile(command))
    .action(async (_options, command: Command) => {
      await runExport(validateOptions(exportSchema, command.opts()));
    });
}
