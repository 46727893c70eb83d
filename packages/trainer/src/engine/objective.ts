// The objective interface of the onnxruntime training engine. An objective is a graph
// fragment: given the student's logits [rows, vocab] inside the training graph, it adds the
// nodes of its scalar loss and of the loss's gradient with respect to the logits, written by
// hand (softmax − target and the like, never differentiated op by op). The engine runs the
// backward pass of the model from that gradient. Objective-specific data (teacher targets)
// enter as graph inputs the fragment declares and `feeds` fills for each micro-batch.
import type { GraphBuilder } from '../onnx-graph.js';

/** A tensor handed to the engine: data, element type and shape. */
export interface EngineTensor {
  type: 'float32' | 'int32' | 'int64';
  data: Float32Array | Int32Array | BigInt64Array;
  dims: readonly number[];
}

/** What the engine gives the fragment: names of graph values and the fixed sizes. */
export interface ObjectiveContext {
  /** float [rows, vocab]: the student's logits times the objective's `logitScale` (1 unless it asks for another). */
  logits: string;
  /** int64 [rows, 1]: the next-token id of each row. */
  labels: string;
  /** float [rows]: 1 for rows that count, 0 for padding. */
  rowWeights: string;
  rows: number;
  vocab: number;
}

/** Names of the values the fragment computed. */
export interface ObjectiveOutputs {
  /** float scalar: the micro-batch loss (a mean over weighted rows). */
  loss: string;
  /** float [rows, vocab]: d loss / d logits (the unscaled logits, whatever `logitScale` is). */
  dLogits: string;
  /** Named float scalars reported beside the loss (e.g. the CE and KD parts). */
  metrics?: Record<string, string>;
}

/** One micro-batch as the engine sees it; `targets` carries what an objective needs beyond labels. */
export interface ObjectiveBatch<Targets = unknown> {
  rows: number;
  labels: Int32Array;
  rowWeights: Float32Array;
  targets?: Targets;
}

export interface EngineObjective<Targets = unknown> {
  readonly name: string;
  /**
   * The factor the logits reach the fragment multiplied by (default 1). The engine folds it
   * into the LM head's product, so an objective that only needs logits / τ over the whole
   * vocabulary gets them without a pass of its own.
   */
  readonly logitScale?: number;
  /** Adds the loss and its logits gradient to the graph; declares the fragment's own inputs with `graph.input`. */
  build(graph: GraphBuilder, context: ObjectiveContext): ObjectiveOutputs;
  /** Values of the inputs `build` declared, for one micro-batch (none for CE). */
  feeds(batch: ObjectiveBatch<Targets>): Record<string, EngineTensor>;
}

/**
 * Cross-entropy over `logits` with hand-written gradient, as graph nodes: returns the
 * softmax, the per-row loss and the gradient, so objectives that mix in CE reuse them.
 * The log-normalizer comes from the softmax: log Σexp(z) = max z − log max p.
 */
export function crossEntropyFragment(
  graph: GraphBuilder,
  context: ObjectiveContext,
  weightScale?: string,
): { probabilities: string; rowLoss: string; loss: string; dLogits: string; rowScale: string } {
  const { logits, labels, rowWeights } = context;
  const probabilities = graph.op('Softmax', [logits], { axis: -1 });
  const maxLogit = graph.op('ReduceMax', [logits], { axes: [-1], keepdims: 1 });
  const maxProbability = graph.op('ReduceMax', [probabilities], { axes: [-1], keepdims: 1 });
  const logNormalizer = graph.op('Sub', [maxLogit, graph.op('Log', [maxProbability])]);
  const picked = graph.op('GatherElements', [logits, labels], { axis: 1 });
  const flat = graph.ints(`${graph.unique('ce_flat')}`, [-1]);
  const rowLoss = graph.op('Reshape', [graph.op('Sub', [logNormalizer, picked]), flat]);
  const total = graph.op('Max', [graph.op('ReduceSum', [rowWeights], { keepdims: 0 }), graph.floats(graph.unique('ce_floor'), Float32Array.of(1e-12), [])]);
  const weights = weightScale ? graph.op('Mul', [rowWeights, weightScale]) : rowWeights;
  const loss = graph.op('Div', [graph.op('ReduceSum', [graph.op('Mul', [rowLoss, weights])], { keepdims: 0 }), total]);
  // (p − onehot(label)) · w / total: scale the softmax, then subtract the scale at the label.
  const rowScale = graph.op('Unsqueeze', [graph.op('Div', [weights, total]), graph.ints(graph.unique('ce_axes'), [1])]);
  const scaled = graph.op('Mul', [probabilities, rowScale]);
  const dLogits = graph.op('ScatterElements', [scaled, labels, graph.op('Neg', [rowScale])], { axis: 1, reduction: { string: 'add' } });
  return { probabilities, rowLoss, loss, dLogits, rowScale };
}

/** Next-token cross-entropy: the mean over weighted rows of −log softmax(logits)[label]. */
export const crossEntropyObjective: EngineObjective = {
  name: 'ce',
  build(graph, context) {
    const { loss, dLogits } = crossEntropyFragment(graph, context);
    return { loss, dLogits };
  },
  feeds: () => ({}),
};
