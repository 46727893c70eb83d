// Whether a checkpoint is worth keeping as the one to resume from: finite weights of a sane
// size, and a loss that is finite and not above where training started. A run that diverges
// writes no "good" checkpoint after the divergence began, and when the loss finally turns
// non-finite the message can say whether the kept checkpoint itself is damaged.

/**
 * Largest weight magnitude a healthy checkpoint holds. Weights trained with AdamW and weight
 * decay stay within single digits (an update moves a weight by about the learning rate); a
 * weight beyond 1000 means the updates ran away.
 */
export const maximumHealthyWeight = 1e3;
/** A loss above this multiple of the first step's loss means the run is worse than at initialization: diverging. */
export const divergenceLossRatio = 1.1;

export interface CheckpointHealth {
  finiteWeights: boolean;
  /** Largest |weight| over all finite values. */
  maxAbsWeight: number;
  /** Loss of the step the checkpoint was written at (NaN when it has none yet). */
  loss: number;
  healthy: boolean;
  /** Why it is not healthy (absent when it is). */
  problem?: string;
}

export function weightStatistics(parameters: ReadonlyMap<string, { dataSync(): unknown }>): { finiteWeights: boolean; maxAbsWeight: number; firstNonFinite?: string } {
  let maxAbsWeight = 0;
  let firstNonFinite: string | undefined;
  for (const [name, parameter] of parameters) {
    const values = parameter.dataSync() as Float32Array;
    for (let index = 0; index < values.length; index++) {
      const magnitude = Math.abs(values[index]);
      if (!Number.isFinite(magnitude)) firstNonFinite ??= name;
      else if (magnitude > maxAbsWeight) maxAbsWeight = magnitude;
    }
  }
  return { finiteWeights: firstNonFinite === undefined, maxAbsWeight, ...(firstNonFinite ? { firstNonFinite } : {}) };
}

/**
 * Judges a checkpoint about to be written from its weights and a loss: `nextLoss` when known
 * (what these very weights give on the next batch; a step's own loss was computed before its
 * update), else the loss of the last step.
 */
export function assessHealth(parameters: ReadonlyMap<string, { dataSync(): unknown }>, losses: readonly number[], nextLoss?: number): CheckpointHealth {
  const { finiteWeights, maxAbsWeight, firstNonFinite } = weightStatistics(parameters);
  const loss = nextLoss ?? (losses.length > 0 ? losses[losses.length - 1] : Number.NaN);
  const first = losses[0];
  const known = nextLoss !== undefined || losses.length > 0;
  let problem: string | undefined;
  if (!finiteWeights) problem = `non-finite weights (first in ${firstNonFinite})`;
  else if (maxAbsWeight > maximumHealthyWeight) problem = `weights up to ${maxAbsWeight.toExponential(2)} (beyond ${maximumHealthyWeight})`;
  else if (known && !Number.isFinite(loss)) problem = `loss ${loss}`;
  else if (known && first !== undefined && loss > divergenceLossRatio * first) problem = `loss ${loss.toPrecision(4)} above the first step's ${first.toPrecision(4)}: the run is diverging`;
  return { finiteWeights, maxAbsWeight, loss, healthy: problem === undefined, ...(problem ? { problem } : {}) };
}

export function describeHealth(health: CheckpointHealth): string {
  return health.healthy
    ? `weights finite, largest ${health.maxAbsWeight.toPrecision(3)}, loss ${Number.isFinite(health.loss) ? health.loss.toPrecision(4) : 'none yet'}`
    : `damaged: ${health.problem}`;
}

/** The E_NONFINITE_LOSS message: which step failed, whether the weights are damaged, and what the kept checkpoint is worth. */
export function nonFiniteMessage(
  step: number,
  what: string,
  parameters: ReadonlyMap<string, { dataSync(): unknown }>,
  kept: { path: string; step: number; health?: CheckpointHealth } | undefined,
  rejected?: { step: number; health: CheckpointHealth },
): string {
  const now = weightStatistics(parameters);
  const weights = now.finiteWeights
    ? `the weights are still finite (largest ${now.maxAbsWeight.toExponential(2)})`
    : `the weights themselves are non-finite (first in ${now.firstNonFinite})`;
  let advice: string;
  const skipped = rejected ? `the checkpoint due at step ${rejected.step} and later ones were not written (${describeHealth(rejected.health)}); ` : '';
  if (!kept) advice = `${skipped}no good checkpoint exists: start again with a lower \`learningRate\` or more \`warmupSteps\``;
  else if (kept.health && !kept.health.healthy) {
    advice = `${skipped}the kept checkpoint (step ${kept.step}, ${kept.path}) is itself ${describeHealth(kept.health)}, so resuming it fails again: start a new run with a lower \`learningRate\` or more \`warmupSteps\``;
  } else {
    advice = `${skipped}the last good checkpoint, step ${kept.step} (${kept.path}${kept.health ? `; ${describeHealth(kept.health)}` : ''}), is kept and can be exported; resuming repeats the same steps exactly, so start a new run with a lower \`learningRate\` or more \`warmupSteps\``;
  }
  return `step ${step}: ${what}; training stopped; ${weights}; ${advice}`;
}
