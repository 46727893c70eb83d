// One model's work queue: at most `concurrency` units run at once, at most `queueSize` wait,
// and when a runner is free it takes the oldest job together with queued jobs that can share
// its forward passes (same batch key), up to `maxBatch`. A waiting job whose client leaves is
// dropped from the queue; a running one sees its signal fire.
import { ServerError } from './errors.js';

export interface Job<Result> {
  /** Jobs with equal keys may run in one batch; undefined runs alone. */
  batchKey: string | undefined;
  signal: AbortSignal;
  resolve(result: Result): void;
  reject(error: unknown): void;
}

export interface SchedulerOptions<J extends Job<unknown>> {
  concurrency: number;
  queueSize: number;
  maxBatch: number;
  /** Runs a batch of one or more jobs and settles each of them. */
  run(jobs: J[]): Promise<void>;
  /** Called whenever the number of waiting or running jobs changes. */
  onChange?(waiting: number, running: number): void;
}

export class Scheduler<J extends Job<unknown>> {
  private readonly waiting: J[] = [];
  private running = 0;
  private runningJobs = 0;
  private serviceMs = 0;
  private served = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: SchedulerOptions<J>) {}

  get depth(): number {
    return this.waiting.length;
  }

  get active(): number {
    return this.runningJobs;
  }

  /** Queues a job, or refuses it with 429 when the queue is full. */
  submit(job: J): void {
    if (job.signal.aborted) {
      job.reject(job.signal.reason);
      return;
    }
    if (this.running >= this.options.concurrency && this.waiting.length >= this.options.queueSize) {
      throw new ServerError('E_QUEUE_FULL', `the model is busy: ${this.waiting.length} requests are waiting; retry later`, {
        headers: { 'Retry-After': String(this.retryAfterSeconds()) },
      });
    }
    this.waiting.push(job);
    job.signal.addEventListener('abort', () => this.dropWaiting(job), { once: true });
    this.changed();
    this.pump();
  }

  /** Seconds until a slot is likely free: the queue ahead times the mean service time. */
  retryAfterSeconds(): number {
    const mean = this.served > 0 ? this.serviceMs / this.served : 1000;
    const ahead = (this.waiting.length + this.running) / Math.max(1, this.options.concurrency * this.options.maxBatch);
    return Math.max(1, Math.min(60, Math.ceil((ahead * mean) / 1000)));
  }

  /** Resolves when nothing is waiting or running. */
  idle(): Promise<void> {
    if (this.waiting.length === 0 && this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private dropWaiting(job: J): void {
    const index = this.waiting.indexOf(job);
    if (index < 0) return;
    this.waiting.splice(index, 1);
    job.reject(job.signal.reason);
    this.changed();
    this.settleIdle();
  }

  private take(): J[] {
    const first = this.waiting.shift()!;
    const batch = [first];
    if (first.batchKey !== undefined) {
      for (let i = 0; i < this.waiting.length && batch.length < this.options.maxBatch; ) {
        if (this.waiting[i].batchKey === first.batchKey) batch.push(...this.waiting.splice(i, 1));
        else i++;
      }
    }
    return batch;
  }

  private pump(): void {
    while (this.running < this.options.concurrency && this.waiting.length > 0) {
      const batch = this.take();
      this.running++;
      this.runningJobs += batch.length;
      this.changed();
      const started = performance.now();
      this.options
        .run(batch)
        .catch((error: unknown) => {
          for (const job of batch) job.reject(error);
        })
        .finally(() => {
          this.serviceMs += performance.now() - started;
          this.served += 1;
          this.running--;
          this.runningJobs -= batch.length;
          this.changed();
          this.pump();
          this.settleIdle();
        });
    }
  }

  private changed(): void {
    this.options.onChange?.(this.waiting.length, this.runningJobs);
  }

  private settleIdle(): void {
    if (this.waiting.length > 0 || this.running > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
