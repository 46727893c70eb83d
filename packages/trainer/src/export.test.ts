import * as tf from './tf.js';
import * as ort from 'onnxruntime-node';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { loadTokenizer } from '@kd/text';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initializeBackend } from './backend.js';
import { exportModel } from './export.js';
import { createModel, type LanguageModel } from './model.js';
import { readSafetensors } from './safetensors.js';
import { studentTokenizer, teacherTokenizer } from './test-fixtures.js';

const config = { vocabSize: 32000, hiddenSize: 32, intermediateSize: 64, layers: 2, heads: 4, keyValueHeads: 2, maxPositions: 128, initializerRange: 0.2, bosTokenId: 1, eosTokenId: 2 };
let folder: string;
let exportDir: string;
let model: LanguageModel;
let session: ort.InferenceSession;

beforeAll(async () => {
  await initializeBackend({ prefer: 'wasm' });
  folder = await mkdtemp(join(tmpdir(), 'kd-export-'));
  exportDir = join(folder, 'student');
  model = createModel(config, { seed: 9 });
  await exportModel(model, exportDir, { tokenizer: teacherTokenizer });
  session = await ort.InferenceSession.create(join(exportDir, 'onnx', 'model.onnx'), { intraOpNumThreads: 1 });
});

afterAll(async () => {
  await session?.release();
  model?.dispose();
  await rm(folder, { recursive: true, force: true });
});

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let index = 0; index < a.length; index++) worst = Math.max(worst, Math.abs(a[index] - b[index]));
  return worst;
}

const int64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);

function feeds(ids: number[][], past: Array<{ key: ort.Tensor; value: ort.Tensor }> | undefined): Record<string, ort.Tensor> {
  const batch = ids.length;
  const sequence = ids[0].length;
  const pastLength = past ? past[0].key.dims[2] : 0;
  const result: Record<string, ort.Tensor> = {
    input_ids: int64(ids.flat(), [batch, sequence]),
    attention_mask: int64(new Array(batch * (pastLength + sequence)).fill(1), [batch, pastLength + sequence]),
    position_ids: int64(ids.flatMap(() => Array.from({ length: sequence }, (_, index) => pastLength + index)), [batch, sequence]),
  };
  for (let layer = 0; layer < config.layers; layer++) {
    const empty = () => new ort.Tensor('float32', new Float32Array(0), [batch, 2, 0, 8]);
    result[`past_key_values.${layer}.key`] = past ? past[layer].key : empty();
    result[`past_key_values.${layer}.value`] = past ? past[layer].value : empty();
  }
  return result;
}

describe('exportModel', () => {
  it('writes the onnx-community layout with Hugging Face names and config', async () => {
    for (const file of ['config.json', 'generation_config.json', 'model.safetensors', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json', 'templates.json']) {
      expect((await stat(join(exportDir, file))).size).toBeGreaterThan(0);
    }
    const hfConfig = JSON.parse(await readFile(join(exportDir, 'config.json'), 'utf8'));
    expect(hfConfig).toMatchObject({ model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 8, vocab_size: 32000, tie_word_embeddings: true, bos_token_id: 1, eos_token_id: 2 });
    expect(hfConfig.transformers_version).toMatch(/^\d+\.\d+\.\d+$/);
    const tokenizerConfig = JSON.parse(await readFile(join(exportDir, 'tokenizer_config.json'), 'utf8'));
    expect(tokenizerConfig).toMatchObject({ bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>', padding_side: 'left', add_bos_token: true, add_eos_token: false });
    expect(tokenizerConfig.added_tokens_decoder).toMatchObject({
      '0': { content: '<unk>', special: true, lstrip: false, rstrip: false, normalized: false, single_word: false },
      '1': { content: '<s>', special: true },
      '2': { content: '</s>', special: true },
    });
    const specialTokensMap = JSON.parse(await readFile(join(exportDir, 'special_tokens_map.json'), 'utf8'));
    expect(specialTokensMap).toEqual({
      bos_token: { content: '<s>', lstrip: false, normalized: false, rstrip: false, single_word: false },
      eos_token: { content: '</s>', lstrip: false, normalized: false, rstrip: false, single_word: false },
      unk_token: { content: '<unk>', lstrip: false, normalized: false, rstrip: false, single_word: false },
    });
    const { tensors } = await readSafetensors(join(exportDir, 'model.safetensors'));
    expect(tensors.get('model.layers.0.self_attn.k_proj.weight')!.shape).toEqual([16, 32]);
    expect(tensors.get('model.layers.1.mlp.down_proj.weight')!.shape).toEqual([32, 64]);
    expect(tensors.has('lm_head.weight')).toBe(false);
    // [out, in] in the file is the transpose of the trainer's [in, out].
    const ours = model.parameters.get('model.layers.0.mlp.gate_proj.weight')!.arraySync() as number[][];
    const theirs = tensors.get('model.layers.0.mlp.gate_proj.weight')!.data;
    expect(theirs[5 * 32 + 7]).toBe(Math.fround(ours[7][5]));
    await expect(exportModel(model, exportDir, { tokenizer: teacherTokenizer })).rejects.toMatchObject({ code: 'E_EXPORT' });
  });

  it('matches the TensorFlow.js forward within 1e-4, without and with past', async () => {
    expect(session.inputNames).toEqual(['input_ids', 'attention_mask', 'position_ids', 'past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value']);
    expect(session.outputNames).toEqual(['logits', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value']);
    const ids = [[1, 415, 8463, 302, 272, 2969, 3543, 4579], [1, 816, 272, 905, 28723, 415, 2969, 12060]];
    const prefix = ids.map((row) => row.slice(0, 5));
    const suffix = ids.map((row) => row.slice(5));
    const first = await session.run(feeds(prefix, undefined));
    expect(first.logits.dims).toEqual([2, 5, 32000]);
    const past = Array.from({ length: config.layers }, (_, layer) => ({ key: first[`present.${layer}.key`], value: first[`present.${layer}.value`] }));
    const second = await session.run(feeds(suffix, past));
    expect(second['present.1.value'].dims).toEqual([2, 2, 8, 8]);

    tf.tidy(() => {
      const reference = model.forward(tf.tensor2d(prefix, [2, 5], 'int32'));
      expect(maxDifference(first.logits.data as Float32Array, reference.logits.dataSync())).toBeLessThanOrEqual(1e-4);
      expect(maxDifference(first['present.0.key'].data as Float32Array, reference.present[0].key.dataSync())).toBeLessThanOrEqual(1e-4);
      const continued = model.forward(tf.tensor2d(suffix, [2, 3], 'int32'), { past: reference.present });
      expect(maxDifference(second.logits.data as Float32Array, continued.logits.dataSync())).toBeLessThanOrEqual(1e-4);
      const whole = model.forward(tf.tensor2d(ids, [2, 8], 'int32'));
      expect(maxDifference(second.logits.data as Float32Array, tf.slice(whole.logits, [0, 5, 0], [2, 3, 32000]).dataSync())).toBeLessThanOrEqual(1e-4);
    });
  });

  it('loads in transformers.js, whose greedy generation equals onnxruntime greedy decoding on the export', async () => {
    const { env, AutoTokenizer, AutoModelForCausalLM } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = dirname(exportDir) + '/';
    const tokenizer = await AutoTokenizer.from_pretrained(basename(exportDir));
    // Batched generation needs left padding; transformers.js takes the side from tokenizer_config.json.
    expect(tokenizer.padding_side).toBe('left');
    const generator = await AutoModelForCausalLM.from_pretrained(basename(exportDir), { dtype: 'fp32' });
    const inputs = tokenizer('We the people');
    const promptIds = Array.from(inputs.input_ids.data as BigInt64Array, Number);
    // The same ids as the tokenizer the student was trained with (BOS + pieces).
    const reference = await (await loadTokenizer(teacherTokenizer)).frame('We the people', { eos: false });
    expect(promptIds).toEqual(Array.from(reference.ids));
    const newTokens = 10;
    const output = await generator.generate({ ...inputs, max_new_tokens: newTokens, min_new_tokens: newTokens, do_sample: false });
    const generated = Array.from((output as { data: BigInt64Array }).data, Number).slice(promptIds.length);

    const expected: number[] = [];
    let step = await session.run(feeds([promptIds], undefined));
    let position = promptIds.length;
    for (let index = 0; index < newTokens; index++) {
      const logits = step.logits.data as Float32Array;
      const last = logits.subarray(logits.length - 32000);
      let best = 0;
      for (let id = 1; id < last.length; id++) if (last[id] > last[best]) best = id;
      expected.push(best);
      const past = Array.from({ length: config.layers }, (_, layer) => ({ key: step[`present.${layer}.key`], value: step[`present.${layer}.value`] }));
      step = await session.run(feeds([[best]], past));
      position++;
    }
    expect(position).toBe(promptIds.length + newTokens);
    expect(generated).toEqual(expected);
    await generator.dispose();
  });
});

describe('exportModel with a tokenizer that does not fit the model', () => {
  it('refuses a tokenizer whose ids exceed the logits, before writing anything', async () => {
    const small = createModel({ ...config, vocabSize: 8000, bosTokenId: 0, eosTokenId: 1 }, { seed: 1 });
    const target = join(folder, 'too-small');
    try {
      const error = await exportModel(small, target, { tokenizer: teacherTokenizer }).catch((caught) => caught);
      expect(error.code).toBe('E_VOCAB_MISMATCH');
      expect(error.message).toContain('vocabulary size 32000');
      expect(error.message).toContain('8000 logits');
    } finally {
      small.dispose();
    }
    await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it("refuses another model's much smaller tokenizer", async () => {
    const error = await exportModel(model, join(folder, 'other-tokenizer'), { tokenizer: studentTokenizer }).catch((caught) => caught);
    expect(error.code).toBe('E_VOCAB_MISMATCH');
    expect(error.message).toContain('24000 logits no token reaches');
  });
});
