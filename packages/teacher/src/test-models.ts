// Builds tiny ONNX "language models" for tests: logits are rows of a table looked up by token id,
// so every probability the teacher reports can be checked exactly in JavaScript.
import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { teacherDir } from './test-fixtures.js';

const { onnx } = onnxProto;

const FLOAT = 1;
const INT32 = 6;
const INT64 = 7;
const FLOAT16 = 10;

export interface TableModelOptions {
  vocab: number;
  idsName?: string;
  idsType?: 'int32' | 'int64';
  logitsName?: string;
  logitsType?: 'float32' | 'float16';
}

/** Values k/16 in [−6, 6]: exact in float16, so the fp16 logits equal the table. */
export function lookupTable(vocab: number, seed = 7): Float32Array {
  const table = new Float32Array(vocab * vocab);
  let state = seed;
  for (let i = 0; i < table.length; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    table[i] = ((state % 193) - 96) / 16;
  }
  return table;
}

/** Graph: logits[b, t, :] = table[input_ids[b, t], :] (cast to fp16 when asked). */
export function tableModel(options: TableModelOptions): Uint8Array {
  const { vocab } = options;
  const idsName = options.idsName ?? 'input_ids';
  const logitsName = options.logitsName ?? 'logits';
  const table = lookupTable(vocab);
  const nodes = [
    onnx.NodeProto.create({ opType: 'Gather', input: ['table', idsName], output: [options.logitsType === 'float16' ? 'logits_float' : logitsName], attribute: [{ name: 'axis', type: 2, i: 0 }] }),
  ];
  if (options.logitsType === 'float16') {
    nodes.push(onnx.NodeProto.create({ opType: 'Cast', input: ['logits_float'], output: [logitsName], attribute: [{ name: 'to', type: 2, i: FLOAT16 }] }));
  }
  const graph = onnx.GraphProto.create({
    name: 'table-lm',
    node: nodes,
    initializer: [onnx.TensorProto.create({ name: 'table', dataType: FLOAT, dims: [vocab, vocab], rawData: new Uint8Array(table.buffer) })],
    input: [
      onnx.ValueInfoProto.create({
        name: idsName,
        type: { tensorType: { elemType: options.idsType === 'int64' ? INT64 : INT32, shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'sequence' }] } } },
      }),
    ],
    output: [
      onnx.ValueInfoProto.create({
        name: logitsName,
        type: { tensorType: { elemType: options.logitsType === 'float16' ? FLOAT16 : FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'sequence' }, { dimValue: vocab }] } } },
      }),
    ],
  });
  const model = onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], producerName: 'kd-tests', graph });
  return onnx.ModelProto.encode(model).finish();
}

/** A word-level tokenizer.json of `vocab` tokens `t0 … t{vocab−1}`: one that fits a table model. */
export function wordTokenizerJson(vocab: number): string {
  const entries = Object.fromEntries(Array.from({ length: vocab }, (_, id) => [`t${id}`, id]));
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: null,
    decoder: null,
    model: { type: 'WordLevel', vocab: entries, unk_token: 't0' },
  });
}

/** A teacher folder holding `model` and a tokenizer: a word-level one of `vocab` tokens, else the fixture's. */
export async function teacherFolder(model: Uint8Array, vocab?: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kd-teacher-'));
  await writeFile(join(dir, 'model.onnx'), model);
  if (vocab === undefined) await copyFile(join(teacherDir, 'tokenizer.json'), join(dir, 'tokenizer.json'));
  else await writeFile(join(dir, 'tokenizer.json'), wordTokenizerJson(vocab));
  return dir;
}
