// What a model folder in the Hugging Face / onnx-community layout holds: the ONNX graph
// (onnx/model.onnx or model.onnx), tokenizer.json, and when present config.json,
// generation_config.json and the task templates kd exports (templates.json).
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { InferError } from './errors.js';

const idOrIds = z.union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative())]).nullish();

const configSchema = z
  .object({
    max_position_embeddings: z.number().int().positive().optional(),
    vocab_size: z.number().int().positive().optional(),
    num_attention_heads: z.number().int().positive().optional(),
    num_key_value_heads: z.number().int().positive().optional(),
    hidden_size: z.number().int().positive().optional(),
    head_dim: z.number().int().positive().nullish(),
    bos_token_id: idOrIds,
    eos_token_id: idOrIds,
    pad_token_id: idOrIds,
  })
  .loose();

const generationConfigSchema = z
  .object({
    max_new_tokens: z.number().int().nonnegative().nullish(),
    min_new_tokens: z.number().int().nonnegative().nullish(),
    do_sample: z.boolean().nullish(),
    temperature: z.number().nonnegative().nullish(),
    top_k: z.number().int().nonnegative().nullish(),
    top_p: z.number().gt(0).max(1).nullish(),
    min_p: z.number().min(0).max(1).nullish(),
    repetition_penalty: z.number().positive().nullish(),
    eos_token_id: idOrIds,
  })
  .loose();

const templatesSchema = z.record(z.string(), z.string());

export type ModelConfig = z.infer<typeof configSchema>;
export type GenerationConfig = z.infer<typeof generationConfigSchema>;

export interface ModelFolder {
  dir: string;
  modelPath: string;
  tokenizerPath: string;
  config: ModelConfig;
  generationConfig: GenerationConfig;
  /** Task → template from templates.json; undefined when the folder has none. */
  templates: Record<string, string> | undefined;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function readJson<T extends z.ZodType>(path: string, schema: T, what: string): Promise<z.output<T> | undefined> {
  if (!(await exists(path))) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new InferError('E_MODEL_FORMAT', `${path}: not valid JSON; fix or remove the file`, { cause });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InferError('E_MODEL_FORMAT', `${path}: ${issue?.path.join('.') || 'the file'}: ${issue?.message}; expected ${what}`);
  }
  return parsed.data;
}

export function firstId(value: number | number[] | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  return Array.isArray(value) ? value[0] : value;
}

export function allIds(value: number | number[] | null | undefined): number[] {
  if (value === null || value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export async function readModelFolder(dir: string): Promise<ModelFolder> {
  if (!(await exists(dir))) throw new InferError('E_MODEL_NOT_FOUND', `${dir} does not exist; pass the folder of an exported model (onnx/model.onnx and tokenizer.json)`);
  const candidates = [join(dir, 'onnx', 'model.onnx'), join(dir, 'model.onnx')];
  let modelPath: string | undefined;
  for (const candidate of candidates) if (!modelPath && (await exists(candidate))) modelPath = candidate;
  if (!modelPath) throw new InferError('E_MODEL_NOT_FOUND', `no ONNX model in ${dir}: looked for ${candidates.join(' and ')}`);
  const tokenizerPath = join(dir, 'tokenizer.json');
  if (!(await exists(tokenizerPath))) {
    throw new InferError('E_MODEL_NOT_FOUND', `no tokenizer.json in ${dir}; save the model's tokenizer there (tokenizer.save_pretrained)`);
  }
  const config = (await readJson(join(dir, 'config.json'), configSchema, 'a Hugging Face config.json')) ?? {};
  const generationConfig = (await readJson(join(dir, 'generation_config.json'), generationConfigSchema, 'a Hugging Face generation_config.json')) ?? {};
  const templates = await readJson(join(dir, 'templates.json'), templatesSchema, 'an object of task → template string, as kd export writes it');
  return { dir, modelPath, tokenizerPath, config, generationConfig, templates };
}
