// A progress line on stderr with rate and ETA, redrawn in place on a TTY and silent otherwise
// (logs and CI stay clean; the final summary is printed by the command).

export interface ProgressOptions {
  label: string;
  total?: number;
  /** Already done before this run started (a resumed job): counted in the total, not in the rate. */
  initial?: number;
  unit: string;
  stream?: NodeJS.WriteStream;
  enabled?: boolean;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

export class Progress {
  private readonly started = performance.now();
  private lastDraw = 0;
  private readonly stream: NodeJS.WriteStream;
  private readonly enabled: boolean;
  done = 0;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.enabled = options.enabled ?? Boolean(this.stream.isTTY);
  }

  /** Sets the count done so far; `extra` is appended to the line (e.g. tokens/s). */
  update(done: number, extra = ''): void {
    this.done = done;
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && done !== this.options.total) return;
    this.lastDraw = now;
    const seconds = (now - this.started) / 1000;
    const rate = (done - (this.options.initial ?? 0)) / Math.max(seconds, 1e-9);
    const total = this.options.total;
    let bar = '';
    let eta = '';
    if (total && total > 0) {
      const fraction = Math.min(1, done / total);
      const width = 20;
      const filled = Math.round(fraction * width);
      bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(1)}% `;
      eta = ` · ETA ${formatDuration((total - done) / Math.max(rate, 1e-9))}`;
    }
    const count = total ? `${done}/${total}` : `${done}`;
    // The caller's own rate (e.g. tokens/s) says more than items/s when it is given.
    const speed = extra || `${rate.toFixed(1)} ${this.options.unit}/s`;
    const line = `${this.options.label} ${bar}${count} ${this.options.unit} · ${speed}${eta}`;
    const columns = this.stream.columns ?? 120;
    this.stream.write(`\r${line.slice(0, columns - 1).padEnd(columns - 1)}`);
  }

  /** Wipes the drawn line so another line can be printed in its place (redrawn at the next update). */
  clear(): void {
    if (!this.enabled) return;
    this.stream.write(`\r${' '.repeat((this.stream.columns ?? 120) - 1)}\r`);
    this.lastDraw = 0;
  }

  finish(): void {
    if (this.enabled) this.stream.write('\n');
  }

  get seconds(): number {
    return (performance.now() - this.started) / 1000;
  }
}
