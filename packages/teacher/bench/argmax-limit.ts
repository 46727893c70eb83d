// The honest limit for labelling speed: the teacher's own graph with ArgMax as its only output,
// so a run costs the forward pass and nothing vocabulary-sized leaves onnxruntime.
import { readFile } from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import { InferenceSession } from 'onnxruntime-node';
import { buildFeeds, type PaddedBatch } from '../src/feeds.js';
import { decodeModel } from '../src/graph.js';
import type { Teacher } from '../src/teacher.js';

const { onnx } = onnxProto;

export async function argmaxRunner(teacher: Teacher, threads = 2): Promise<{ run: (batch: PaddedBatch) => Promise<void>; release: () => Promise<void> }> {
  const model = decodeModel(await readFile(teacher.modelPath), teacher.modelPath);
  const graph = model.graph!;
  graph.node!.push(
    onnx.NodeProto.create({
      opType: 'ArgMax',
      name: 'kd_limit_argmax',
      input: [teacher.signature.logits.name],
      output: ['kd_limit_argmax_out'],
      attribute: [
        { name: 'axis', type: 2, i: -1 },
        { name: 'keepdims', type: 2, i: 0 },
      ],
    }),
  );
  graph.output = [onnx.ValueInfoProto.create({ name: 'kd_limit_argmax_out', type: { tensorType: { elemType: 7 } } })];
  const session = await InferenceSession.create(onnx.ModelProto.encode(model).finish(), { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  return {
    run: async (batch) => void (await session.run(buildFeeds(teacher.signature, batch))),
    release: () => session.release(),
  };
}
