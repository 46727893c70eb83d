// The options of `evaluateStudent`, declared once: `kd eval`'s flags and config keys and the
// `eval` section of a `kd run` config derive from this schema.
import { z } from 'zod';
import { corpusTasks, type CorpusTask } from '@kd/text';
import { mappingRules, type MappingRule } from '@kd/vocab-align';

const taskList = corpusTasks as readonly CorpusTask[] as [CorpusTask, ...CorpusTask[]];

export const evaluateOptionsSchema = z
  .object({
    student: z.string().min(1).describe('the student: an exported folder (onnx/model.onnx + tokenizer.json) or a kd train run folder (exported to a temporary folder first)'),
    corpus: z.string().min(1).describe('held-out corpus: text and code records are scored, classify records are classified, translate records are translated'),
    teacher: z.string().min(1).optional().describe('teacher folder (model.onnx + tokenizer.json): adds KL(teacher‖student) on the aligned positions of the scored text'),
    limit: z.number().int().min(1).optional().describe('most documents per task, spread evenly over the corpus (default: all)'),
    maxNewTokens: z.number().int().min(1).default(64).describe('most tokens one translation may generate (and at most 2 × its source tokens + 16)'),
    window: z.number().int().min(8).default(512).describe('scored text is cut into pieces of at most this many student tokens, each read from a fresh start'),
    tasks: z.array(z.enum(taskList)).min(1).default([...taskList]).describe('tasks to evaluate: text and code are scored (perplexity, bits per byte, KL), classify gives the accuracy, translate the chrF'),
    mapping: z.enum(mappingRules as [MappingRule, ...MappingRule[]]).default('first-piece').describe('how a teacher token without a byte-identical student token is mapped for the KL'),
    mapCacheDir: z.string().min(1).optional().describe('folder where the teacher→student map is cached'),
    threads: z.number().int().min(1).default(2).describe('onnxruntime intra-op threads'),
  })
  .strict();

export type EvaluateOptionsInput = z.input<typeof evaluateOptionsSchema>;
export type EvaluateOptions = z.output<typeof evaluateOptionsSchema>;
