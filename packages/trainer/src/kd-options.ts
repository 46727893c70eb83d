// The distillation options of a training run (objective `kd`), declared once: the trainer's
// schema merges them, and the command line and config files derive from it.
import { z } from 'zod';

export const distillationOptionsShape = {
  labels: z.string().min(1).optional().describe('a `kd label` dataset folder: the teacher rows offline mode trains on'),
  teacher: z.string().min(1).optional().describe('an exported teacher folder (online mode: the teacher labels the corpus in the loop)'),
  teacherTokenizer: z.string().min(1).optional().describe("the teacher's tokenizer.json: the labels must have been made with it"),
  map: z.string().min(1).optional().describe('a vocabulary map file built for this teacher/student pair (default: built, and cached in mapCacheDir)'),
  mapCacheDir: z.string().min(1).optional().describe('folder where the teacher→student map is cached'),
  mapping: z.enum(['first-piece', 'byte-prefix']).default('first-piece').describe('how a teacher token without a byte-identical student token is mapped'),
  alpha: z.number().min(0).max(1).default(0.5).describe('weight of the teacher term; 1 − alpha weights the hard label'),
  temperature: z.number().positive().default(1).describe("the student's softmax temperature in the teacher term (the loss is scaled by its square)"),
  divergence: z.enum(['forward-kl', 'reverse-kl', 'jsd']).default('forward-kl').describe('how the student is compared with the teacher'),
  beta: z.number().gt(0).lt(1).default(0.5).describe('JSD mixture weight β: M = β·teacher + (1 − β)·student'),
  tail: z.enum(['renormalize', 'bucket']).default('renormalize').describe("the teacher's mass outside its kept ids: renormalized away, or one residual category"),
  categories: z
    .enum(['token', 'prefix-group'])
    .default('prefix-group')
    .describe("what the teacher term compares: each student id's mass (token), or each prefix group's, the student tokens a teacher token's bytes can begin with (prefix-group; for tokenizers that cut text differently)"),
  shuffleParts: z
    .number()
    .int()
    .positive()
    .default(8)
    .describe("teacher-row parts whose windows are shuffled together: each epoch's seeded part order is cut into groups of this many, and a group's windows are visited in one seeded order (1: a part at a time, as runs before this setting did); this many parts are held decoded at once, so more mixes a corpus whose parts each hold one kind of text, at the cost of memory"),
};
