// Export parity figures: the largest absolute logit difference between onnxruntime-node on an
// exported model and the TensorFlow.js forward, without past and with past.
// Run: npx tsx packages/trainer/bench/parity.ts
import * as tf from '../src/tf.js';
import * as ort from 'onnxruntime-node';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initializeBackend } from '../src/backend.js';
import { exportModel } from '../src/export.js';
import { createModel } from '../src/model.js';
import { teacherTokenizer } from '../src/test-fixtures.js';

export interface ParityRow {
  model: string;
  maxDifferenceWithoutPast: number;
  maxDifferenceWithPast: number;
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let index = 0; index < a.length; index++) worst = Math.max(worst, Math.abs(a[index] - b[index]));
  return worst;
}

export async function measureExportParity(): Promise<ParityRow[]> {
  await initializeBackend();
  const rows: ParityRow[] = [];
  const sizes = [
    { name: 'd=64, 2 layers, 4 heads / 2 kv heads', hiddenSize: 64, intermediateSize: 176, layers: 2, heads: 4, keyValueHeads: 2 },
    { name: 'd=256, 2 layers, 4 heads', hiddenSize: 256, intermediateSize: 688, layers: 2, heads: 4 },
  ];
  for (const size of sizes) {
    const { name, ...shape } = size;
    const folder = await mkdtemp(join(tmpdir(), 'kd-parity-'));
    const model = createModel({ ...shape, vocabSize: 32000, maxPositions: 256, bosTokenId: 1, eosTokenId: 2 }, { seed: 3 });
    try {
      await exportModel(model, join(folder, 'export'), { tokenizer: teacherTokenizer });
      const session = await ort.InferenceSession.create(join(folder, 'export', 'onnx', 'model.onnx'));
      const ids = Array.from({ length: 2 * 48 }, (_, index) => (index * 7919 + 11) % 32000);
      const kv = shape.keyValueHeads ?? shape.heads;
      const headSize = shape.hiddenSize / shape.heads;
      const run = (tokens: number[], sequence: number, past: number, cache?: Record<string, ort.Tensor>) => {
        const feeds: Record<string, ort.Tensor> = {
          input_ids: new ort.Tensor('int64', BigInt64Array.from(tokens.map(BigInt)), [2, sequence]),
          attention_mask: new ort.Tensor('int64', new BigInt64Array(2 * (past + sequence)).fill(1n), [2, past + sequence]),
          position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: 2 * sequence }, (_, index) => BigInt(past + (index % sequence))), [2, sequence]),
        };
        for (let layer = 0; layer < shape.layers; layer++) {
          for (const part of ['key', 'value']) {
            feeds[`past_key_values.${layer}.${part}`] = cache?.[`present.${layer}.${part}`] ?? new ort.Tensor('float32', new Float32Array(0), [2, kv, 0, headSize]);
          }
        }
        return session.run(feeds);
      };
      const rowsOf = (from: number, to: number) => [...ids.slice(from, to), ...ids.slice(48 + from, 48 + to)];
      const whole = await run(ids, 48, 0);
      const first = await run(rowsOf(0, 40), 40, 0);
      const second = await run(rowsOf(40, 48), 8, 40, first);
      const reference = tf.tidy(() => model.forward(tf.tensor2d(ids, [2, 48], 'int32')).logits.dataSync());
      const tail = tf.tidy(() => tf.slice(model.forward(tf.tensor2d(ids, [2, 48], 'int32')).logits, [0, 40, 0], [2, 8, 32000]).dataSync());
      rows.push({ model: name, maxDifferenceWithoutPast: maxDifference(whole.logits.data as Float32Array, reference), maxDifferenceWithPast: maxDifference(second.logits.data as Float32Array, tail) });
      await session.release();
    } finally {
      model.dispose();
      await rm(folder, { recursive: true, force: true });
    }
  }
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.table(await measureExportParity());
}
