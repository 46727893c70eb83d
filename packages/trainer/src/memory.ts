// Up-front memory estimate of a training step, so an oversized batch is refused with numbers
// before any work starts rather than failing deep inside the backend.
import { totalmem } from 'node:os';
import { parameterCount, type ModelConfig } from './config.js';
import type { BackendName } from './backend.js';

export interface MemoryEstimate {
  parameters: number;
  /** Weights, gradients, accumulated gradients and the two AdamW moments. */
  parameterBytes: number;
  /** Tensors kept for the backward pass of one micro-batch. */
  activationBytes: number;
  totalBytes: number;
}

/** float32 bytes of one step: a deliberately generous count of what the backward pass keeps. */
export function estimateTrainingMemory(config: ModelConfig, batchSize: number, sequenceLength: number, accumulate: number): MemoryEstimate {
  const parameters = parameterCount(config);
  const copies = 4 + (accumulate > 1 ? 1 : 0);
  const parameterBytes = 4 * parameters * copies;
  const tokens = batchSize * sequenceLength;
  // Per layer: ~14 hidden-sized tensors (norms, projections, rotary parts, residuals), 4
  // MLP-sized ones, and 3 attention maps per head; then logits, one-hot targets, softmax and
  // their gradient over the vocabulary.
  const perLayer = tokens * (14 * config.hiddenSize + 4 * config.intermediateSize) + 3 * batchSize * config.heads * sequenceLength * sequenceLength;
  const activationBytes = 4 * (config.layers * perLayer + 4 * tokens * config.vocabSize);
  return { parameters, parameterBytes, activationBytes, totalBytes: parameterBytes + activationBytes };
}

/** What the backend or engine can hold: wasm32 addresses at most 4 GiB; native code uses host memory. */
export function memoryLimit(backend: BackendName | 'onnxruntime'): number {
  const host = Math.floor(totalmem() * 0.8);
  return backend === 'wasm' ? Math.min(4 * 1024 ** 3, host) : host;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024).toFixed(1)} KiB`;
}
