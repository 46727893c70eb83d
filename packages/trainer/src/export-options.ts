// The options of `exportModel`, declared once as a zod schema: config files and the CLI's
// flags are derived from it.
import { z } from 'zod';

export const exportOptionsSchema = z
  .object({
    tokenizer: z.string().min(1).optional().describe("tokenizer.json to ship (default: the one saved with the checkpoint; required for an in-memory model)"),
    overwrite: z.boolean().default(false).describe('replace an earlier export in the folder (only a folder kd wrote as an export; never the run itself, the working directory or other files)'),
  })
  .strict();

export type ExportOptions = z.input<typeof exportOptionsSchema>;
