// Learning-rate schedule: linear warmup from 0 to the peak, then cosine decay to a floor.

export interface ScheduleOptions {
  peak: number;
  warmupSteps: number;
  totalSteps: number;
  /** Floor at the end of the cosine, as a fraction of the peak (default 0.1). */
  minimumRatio?: number;
}

/** Learning rate for optimizer step `step` (counting from 1). */
export function learningRateAt(step: number, options: ScheduleOptions): number {
  const { peak, warmupSteps, totalSteps } = options;
  const floor = peak * (options.minimumRatio ?? 0.1);
  if (warmupSteps > 0 && step <= warmupSteps) return (peak * step) / warmupSteps;
  const decaySteps = Math.max(1, totalSteps - warmupSteps);
  const progress = Math.min(1, Math.max(0, (step - warmupSteps) / decaySteps));
  return floor + 0.5 * (peak - floor) * (1 + Math.cos(Math.PI * progress));
}
