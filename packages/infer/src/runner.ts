// Opening an ONNX causal LM for running: the session, its signature, the logits width (probed
// with a one-token run when the graph leaves it symbolic) and whether steps use the KV cache.
import { readFile } from 'node:fs/promises';
import { forwardAll, type Runner } from './forward.js';
import { sliceLogitsGraph } from './logits-slice.js';
import { InferError } from './errors.js';
import { createSession } from './session.js';
import { readSignature, type CacheShapeHints } from './signature.js';

export interface OpenRunnerOptions extends CacheShapeHints {
  threads: number;
  /** Rewrite the graph to compute logits only at the positions used (default true; see logits-slice.ts). */
  sliceLogits?: boolean;
  /** Ignore the graph's cache inputs and recompute every step (default: use them when present). */
  disableCache?: boolean;
}

export async function openRunner(modelPath: string, options: OpenRunnerOptions): Promise<Runner> {
  let source: string | Uint8Array = modelPath;
  if (options.sliceLogits !== false) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(modelPath);
    } catch (cause) {
      throw new InferError('E_MODEL_NOT_FOUND', `${modelPath} cannot be read (${(cause as Error).message})`, { cause });
    }
    source = sliceLogitsGraph(bytes) ?? modelPath;
  }
  const session = await createSession(source, modelPath, { threads: options.threads });
  try {
    const signature = readSignature(session, modelPath, options);
    const useCache = signature.cache.length > 0 && !options.disableCache;
    let vocabSize = signature.vocabSize;
    if (vocabSize === undefined) {
      const probe: Runner = { session, signature, modelPath, vocabSize: 0, useCache };
      vocabSize = (await forwardAll(probe, Uint32Array.of(0), [1], 1)).length;
    }
    if (!vocabSize) throw new InferError('E_MODEL_SIGNATURE', `${modelPath}: the logits have no vocabulary dimension`);
    return { session, signature, modelPath, vocabSize, useCache };
  } catch (cause) {
    await session.release();
    throw cause;
  }
}
