import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { crossEntropyObjective, type EngineObjective } from './engine/objective.js';
import { trainingOpset } from './engine/training-graph.js';
import type { DistillationSettings, Divergence, SoftTargets, TailTreatment } from './kd-divergence.js';
import { distillationEngineObjective } from './kd-engine-objective.js';
import { narrowTargets } from './kd-targets.js';
import { matchingTeacher, certainTeacher, pairedCategories, sample } from './kd-test-batches.js';
import { GraphBuilder } from './onnx-graph.js';
import { referenceObjective, testObjective, type EvaluateObjective, type ObjectiveInput } from './objective-suite.js';

/** The objective's fragment alone, as an onnxruntime graph: logits in, loss and dLogits out. */
async function fragmentSession(objective: EngineObjective<SoftTargets>, rows: number, vocab: number): Promise<ort.InferenceSession> {
  const graph = new GraphBuilder();
  const logits = graph.input('logits', 'float', [rows, vocab]);
  const labels = graph.input('labels', 'int64', [rows, 1]);
  const rowWeights = graph.input('row_weights', 'float', [rows]);
  const { loss, dLogits } = objective.build(graph, { logits, labels, rowWeights, rows, vocab });
  graph.op('Identity', [loss], {}, 'loss');
  graph.op('Identity', [dLogits], {}, 'd_logits');
  graph.output('loss', 'float', []);
  graph.output('d_logits', 'float', [rows, vocab]);
  return ort.InferenceSession.create(graph.encode({ name: 'objective', producer: 'kd-test', opset: trainingOpset }), { intraOpNumThreads: 1, logSeverityLevel: 3 });
}

/** Runs an objective's fragment under onnxruntime, one session per batch shape. */
function engineEvaluator(make: (width: number) => EngineObjective<SoftTargets>): EvaluateObjective {
  const sessions = new Map<string, Promise<{ objective: EngineObjective<SoftTargets>; session: ort.InferenceSession }>>();
  return async (input: ObjectiveInput) => {
    const width = input.soft?.width ?? 1;
    const shape = `${input.rows}×${input.vocab}×${width}`;
    if (!sessions.has(shape)) {
      const objective = make(width);
      sessions.set(shape, fragmentSession(objective, input.rows, input.vocab).then((session) => ({ objective, session })));
    }
    const { objective, session } = await sessions.get(shape)!;
    // The engine hands the fragment its logits times the objective's logitScale.
    const scale = objective.logitScale ?? 1;
    const feeds: Record<string, ort.Tensor> = {
      logits: new ort.Tensor('float32', scale === 1 ? input.logits : input.logits.map((logit) => logit * scale), [input.rows, input.vocab]),
      labels: new ort.Tensor('int64', BigInt64Array.from(input.labels, (label) => BigInt(label)), [input.rows, 1]),
      row_weights: new ort.Tensor('float32', input.weights, [input.rows]),
    };
    for (const [name, tensor] of Object.entries(objective.feeds({ rows: input.rows, labels: input.labels, rowWeights: input.weights, targets: input.soft }))) {
      feeds[name] = new ort.Tensor(tensor.type, tensor.data as never, tensor.dims);
    }
    const out = await session.run(feeds);
    return { loss: (out.loss!.data as Float32Array)[0]!, gradient: out.d_logits!.data as Float32Array };
  };
}

const divergences: Divergence[] = ['forward-kl', 'reverse-kl', 'jsd'];
const tails: TailTreatment[] = ['renormalize', 'bucket'];

describe('kd objective on the onnxruntime engine', () => {
  it('agrees with the float64 reference on loss and gradient for every divergence, tail and temperature path (and CE rows)', async () => {
    for (const divergence of divergences) {
      for (const tail of tails) {
        // τ = 1 and 2 share one softmax between the terms; 1.5 takes the general path.
        for (const temperature of [1, 2, 1.5]) {
          const settings: DistillationSettings = { alpha: 0.7, temperature, divergence, beta: 0.4 };
          const input = sample(tail, 11);
          const result = await engineEvaluator((width) => distillationEngineObjective(settings, width))(input);
          const reference = referenceObjective(settings)(input);
          expect(result.loss).toBeCloseTo(reference.loss, 4);
          for (let index = 0; index < input.logits.length; index++) expect(Math.abs(result.gradient[index]! - reference.gradient[index]!), `${divergence} ${tail} τ=${temperature} logit ${index}`).toBeLessThan(2e-5);
        }
      }
    }
  });

  it('agrees with the float64 reference with grouped categories, and refuses them on a graph built for tokens', async () => {
    for (const divergence of divergences) {
      for (const tail of tails) {
        const settings: DistillationSettings = { alpha: 0.7, temperature: 2, divergence, beta: 0.4, categories: 'prefix-group' };
        const input = pairedCategories(sample(tail, 11));
        const result = await engineEvaluator((width) => distillationEngineObjective(settings, width))(input);
        const reference = referenceObjective(settings)(input);
        expect(result.loss).toBeCloseTo(reference.loss, 4);
        for (let index = 0; index < input.logits.length; index++) expect(Math.abs(result.gradient[index]! - reference.gradient[index]!), `${divergence} ${tail} logit ${index}`).toBeLessThan(2e-5);
      }
    }
    const tokens = distillationEngineObjective({ alpha: 0.7, temperature: 2, divergence: 'forward-kl', beta: 0.4 }, 4);
    const input = pairedCategories(sample('renormalize', 11));
    expect(() => tokens.feeds({ rows: input.rows, labels: input.labels, rowWeights: input.weights, targets: input.soft })).toThrow(/prefix-group/);
  });

  it('a graph built for wide rows takes each batch at its own width: narrowed rows give the loss and gradient of the wide ones', async () => {
    const wide = 40;
    for (const grouped of [false, true]) {
      const settings: DistillationSettings = { alpha: 0.7, temperature: 1, divergence: 'forward-kl', beta: 0.5, ...(grouped ? { categories: 'prefix-group' as const } : {}) };
      const input = grouped ? pairedCategories(sample('bucket', 7)) : sample('bucket', 7);
      const soft = input.soft!;
      // The rows padded out to 40 entries, as a full-width batch is written (the first id again, no mass).
      const padded: SoftTargets = { ...soft, width: wide, ids: new Int32Array(soft.rows * wide), probs: new Float32Array(soft.rows * wide), ...(soft.category ? { category: new Int32Array(soft.rows * wide) } : {}) };
      const counts = new Uint32Array(soft.rows);
      for (let row = 0; row < soft.rows; row++) {
        if (!soft.present[row]) continue;
        counts[row] = soft.width;
        for (let k = 0; k < wide; k++) {
          const from = row * soft.width + (k < soft.width ? k : 0);
          padded.ids[row * wide + k] = soft.ids[from]!;
          padded.probs[row * wide + k] = k < soft.width ? soft.probs[from]! : 0;
          if (padded.category) padded.category[row * wide + k] = soft.category![from]!;
        }
      }
      const narrow = narrowTargets(padded, counts);
      expect(narrow.width).toBe(16);
      expect([...narrow.lengths!]).toEqual([...counts]);
      const evaluate = engineEvaluator(() => distillationEngineObjective(settings, wide));
      const reference = referenceObjective(settings)(input);
      for (const targets of [padded, narrow]) {
        const result = await evaluate({ ...input, soft: targets });
        expect(result.loss).toBeCloseTo(reference.loss, 4);
        for (let index = 0; index < input.logits.length; index++) expect(Math.abs(result.gradient[index]! - reference.gradient[index]!)).toBeLessThan(2e-5);
      }
      // The feeds stop at each row's length and pad the rest as the general path would.
      const objective = distillationEngineObjective(settings, wide);
      const batch = { rows: input.rows, labels: input.labels, rowWeights: input.weights };
      const fast = objective.feeds({ ...batch, targets: narrow });
      const general = distillationEngineObjective(settings, wide).feeds({ ...batch, targets: { ...narrow, lengths: undefined } });
      for (const name of Object.keys(general)) expect([...(fast[name]!.data as ArrayLike<number>)], name).toEqual([...(general[name]!.data as ArrayLike<number>)]);
      expect(() => objective.feeds({ ...batch, targets: { ...padded, width: wide + 1 } })).toThrow(/at most 40/);
    }
  });

  it('a batch without teacher targets trains on the labels exactly as CE does', async () => {
    const input = { ...sample('renormalize', 5), soft: undefined };
    const kd = await engineEvaluator((width) => distillationEngineObjective({ alpha: 0.9, temperature: 2, divergence: 'jsd', beta: 0.5 }, width))(input);
    const ce = await engineEvaluator(() => crossEntropyObjective as EngineObjective<SoftTargets>)(input);
    expect(kd.loss).toBeCloseTo(ce.loss, 6);
    const [a, b] = [kd.gradient, ce.gradient];
    for (let index = 0; index < a.length; index++) expect(a[index]).toBeCloseTo(b[index]!, 6);
  });
});

// The shared suite on the engine.
for (const divergence of divergences) {
  for (const tail of tails) {
    const settings: DistillationSettings = { alpha: 0.6, temperature: 2, divergence, beta: 0.3 };
    const pure: DistillationSettings = { alpha: 1, temperature: 1, divergence, beta: 0.5 };
    for (const [label, chosen, atTarget] of [
      ['α=0.6 τ=2', settings, certainTeacher],
      ['α=1 τ=1', pure, () => matchingTeacher(tail, 1)],
    ] as const) {
      testObjective(`kd ${divergence} ${tail} ${label} (onnxruntime engine)`, {
        evaluate: engineEvaluator((width) => distillationEngineObjective(chosen, width)),
        sample: () => sample(tail, 2),
        atTarget,
      });
    }
  }
}

// … and with grouped categories: at the target when each pair's mass matches, however it is split.
for (const divergence of divergences) {
  for (const tail of tails) {
    const grouped: DistillationSettings = { alpha: 1, temperature: 1, divergence, beta: 0.5, categories: 'prefix-group' };
    testObjective(`kd ${divergence} ${tail} grouped α=1 τ=1 (onnxruntime engine)`, {
      evaluate: engineEvaluator((width) => distillationEngineObjective(grouped, width)),
      sample: () => pairedCategories(sample(tail, 2)),
      atTarget: () => pairedCategories(matchingTeacher(tail, 1)),
    });
  }
}
