// Export of a trained student as a folder in the onnx-community layout that Hugging Face
// tools load like any Llama: onnx/model.onnx (with a KV cache), model.safetensors with
// Hugging Face parameter names and layout, config.json, generation_config.json,
// tokenizer.json + tokenizer_config.json + special_tokens_map.json, and the task prompt templates.
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { ModelConfig } from './config.js';
import { checkpointFolderName, loadCheckpoint } from './checkpoint.js';
import { TrainerError } from './errors.js';
import { checkExportTarget, exportMarkerFile, recoverInterruptedExports, replaceExport, writeExportMarker } from './export-target.js';
import type { ExportOptions } from './export-options.js';
import type { StudentModel } from './model.js';
import { buildOnnxModel } from './onnx-export.js';
import { encodeSafetensors, type StoredTensor } from './safetensors.js';
import { assertTokenizerFits, loadTokenizer, taskTemplates, TextError } from '@kd/text';
import { tokenizerFiles, transformersVersion, type SpecialTokens } from './tokenizer-files.js';

export interface ExportResult {
  dir: string;
  files: string[];
  config: ModelConfig;
  /** What was found and cleaned up from interrupted earlier exports to the same folder (one line each). */
  recovered: string[];
}

/** The folders an export must not touch: the checkpoint read and the run folder holding it. */
function runFolders(source: string, checkpointFolder: string): string[] {
  const folders = [resolve(source), resolve(checkpointFolder)];
  if (basename(checkpointFolder).startsWith(checkpointFolderName)) folders.push(dirname(resolve(checkpointFolder)));
  return folders;
}

function isProjection(name: string): boolean {
  return /\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)\.weight$/.test(name);
}

function transpose(values: Float32Array, rows: number, columns: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) out[column * rows + row] = values[row * columns + column];
  }
  return out;
}

/** Hugging Face Llama tensors: projections as [out, in]; the output head is tied, so not stored. */
export function huggingFaceTensors(model: StudentModel): Map<string, StoredTensor> {
  const tensors = new Map<string, StoredTensor>();
  for (const [name, parameter] of model.parameters) {
    const data = parameter.dataSync() as Float32Array;
    if (isProjection(name)) {
      const [inputs, outputs] = parameter.shape;
      tensors.set(name, { shape: [outputs, inputs], data: transpose(data, inputs, outputs) });
    } else tensors.set(name, { shape: [...parameter.shape], data });
  }
  return tensors;
}

function huggingFaceConfig(config: ModelConfig): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    intermediate_size: config.intermediateSize,
    num_hidden_layers: config.layers,
    num_attention_heads: config.heads,
    num_key_value_heads: config.keyValueHeads,
    head_dim: config.headSize,
    hidden_act: 'silu',
    max_position_embeddings: config.maxPositions,
    initializer_range: config.initializerRange,
    rms_norm_eps: config.rmsNormEpsilon,
    rope_theta: config.ropeTheta,
    rope_scaling: null,
    attention_bias: false,
    attention_dropout: 0,
    mlp_bias: false,
    tie_word_embeddings: true,
    use_cache: true,
    torch_dtype: 'float32',
    bos_token_id: config.bosTokenId ?? null,
    eos_token_id: config.eosTokenId ?? null,
    pad_token_id: config.padTokenId ?? null,
    transformers_version: transformersVersion,
  };
}

/**
 * Writes the export folder from a run folder / checkpoint path or an in-memory model. The folder
 * is assembled beside the target and moved in when complete; an earlier export is replaced only
 * with `overwrite` and only when it is one (see export-target.ts).
 */
export async function exportModel(source: string | StudentModel, outDir: string, options: ExportOptions = {}): Promise<ExportResult> {
  let model: StudentModel;
  let tokenizerPath: string;
  let owned = false;
  let protectedPaths: string[] = [];
  if (typeof source === 'string') {
    const loaded = await loadCheckpoint(source);
    model = loaded.model;
    owned = true;
    tokenizerPath = options.tokenizer ?? loaded.tokenizerPath;
    protectedPaths = runFolders(source, loaded.path);
  } else {
    if (!options.tokenizer) throw new TrainerError('E_EXPORT', 'exporting an in-memory model needs `tokenizer` (the tokenizer.json it was trained with)');
    model = source;
    tokenizerPath = options.tokenizer;
  }
  const partial = `${resolve(outDir)}.partial-${process.pid}`;
  let recovered: string[] = [];
  try {
    const config = model.config;
    // The tokenizer shipped must index the model's logits (onnxruntime would fail on the first
    // id beyond them, long after the export looked fine); the roles are the run's own ids.
    const tokenizer = await loadTokenizer(tokenizerPath, {
      specialTokens: { bos: config.bosTokenId ?? null, eos: config.eosTokenId ?? null, pad: config.padTokenId ?? null },
    });
    assertTokenizerFits(tokenizer, config.vocabSize, { model: typeof source === 'string' ? source : 'the in-memory model' });
    const target = await checkExportTarget(outDir, { overwrite: options.overwrite ?? false, protectedPaths });
    recovered = await recoverInterruptedExports(outDir);
    // A restored earlier export is checked again: it now occupies the folder.
    const state = recovered.length > 0 ? await checkExportTarget(outDir, { overwrite: options.overwrite ?? false, protectedPaths }) : target;
    const weights = new Map<string, Float32Array>();
    for (const [name, parameter] of model.parameters) weights.set(name, parameter.dataSync() as Float32Array);

    await rm(partial, { recursive: true, force: true });
    await mkdir(join(partial, 'onnx'), { recursive: true });
    await writeFile(join(partial, 'onnx', 'model.onnx'), buildOnnxModel(config, weights));
    await writeFile(join(partial, 'model.safetensors'), encodeSafetensors(huggingFaceTensors(model), { format: 'pt' }));
    await writeFile(join(partial, 'config.json'), JSON.stringify(huggingFaceConfig(config), null, 2));
    await writeFile(
      join(partial, 'generation_config.json'),
      JSON.stringify({ bos_token_id: config.bosTokenId ?? null, eos_token_id: config.eosTokenId ?? null, pad_token_id: config.padTokenId ?? null, do_sample: false, transformers_version: transformersVersion }, null, 2),
    );
    await copyFile(tokenizer.path, join(partial, 'tokenizer.json'));
    const special: SpecialTokens = {};
    for (const role of ['bos', 'eos', 'unk', 'pad'] as const) {
      const id = tokenizer.roles[role];
      if (id !== undefined) special[role] = { id, content: tokenizer.token(id) ?? '' };
    }
    const { tokenizerConfig, specialTokensMap } = await tokenizerFiles(tokenizer.path, special, config.maxPositions);
    await writeFile(join(partial, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig, null, 2));
    await writeFile(join(partial, 'special_tokens_map.json'), JSON.stringify(specialTokensMap, null, 2));
    await writeFile(join(partial, 'templates.json'), JSON.stringify(taskTemplates, null, 2));
    const marker = await writeExportMarker(partial);
    await replaceExport(partial, outDir, state);
    return { dir: outDir, files: [...Object.keys(marker.files), exportMarkerFile].sort(), config, recovered };
  } catch (cause) {
    await rm(partial, { recursive: true, force: true });
    if (cause instanceof TrainerError || cause instanceof TextError) throw cause;
    throw new TrainerError('E_EXPORT', `export to ${outDir} failed: ${(cause as Error).message}`, { cause });
  } finally {
    if (owned) model.dispose();
  }
}
