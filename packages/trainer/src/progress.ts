// The one-line progress report of a training run: step, loss, throughput and time left.

export interface TrainProgress {
  step: number;
  totalSteps: number;
  loss: number;
  learningRate: number;
  /** Training tokens per second over this run so far. */
  tokensPerSecond: number;
  elapsedSeconds: number;
  /** Estimated seconds until the last step. */
  etaSeconds: number;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const whole = Math.max(0, Math.round(seconds));
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = whole % 60;
  return hours > 0 ? `${hours}h${String(minutes).padStart(2, '0')}m` : `${minutes}m${String(rest).padStart(2, '0')}s`;
}

/** `[#####-----] step 40/100 loss 5.213 lr 3.0e-3 1,234 tok/s ETA 1m05s` */
export function formatProgress(progress: TrainProgress, width = 20): string {
  const fraction = progress.totalSteps > 0 ? Math.min(1, progress.step / progress.totalSteps) : 0;
  const filled = Math.round(fraction * width);
  const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
  const rate = Math.round(progress.tokensPerSecond).toLocaleString('en-US');
  return `[${bar}] step ${progress.step}/${progress.totalSteps} loss ${progress.loss.toFixed(4)} lr ${progress.learningRate.toExponential(1)} ${rate} tok/s ETA ${formatDuration(progress.etaSeconds)}`;
}
