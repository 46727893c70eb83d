import { describe, expect, it } from 'vitest';
import { ServerError } from './errors.js';
import { Scheduler, type Job } from './scheduler.js';

interface TestJob extends Job<number> {
  value: number;
}

function job(value: number, batchKey: string | undefined, signal = new AbortController().signal): { job: TestJob; result: Promise<number> } {
  let resolve!: (value: number) => void;
  let reject!: (error: unknown) => void;
  const result = new Promise<number>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { job: { value, batchKey, signal, resolve, reject }, result };
}

describe('Scheduler', () => {
  it('joins queued jobs with the same key into one batch, up to maxBatch', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const scheduler = new Scheduler<TestJob>({
      concurrency: 1,
      queueSize: 10,
      maxBatch: 3,
      async run(jobs) {
        batches.push(jobs.map((j) => j.value));
        await gate;
        for (const j of jobs) j.resolve(j.value * 10);
      },
    });
    const jobs = [job(1, 'a'), job(2, 'a'), job(3, undefined), job(4, 'a'), job(5, 'a'), job(6, 'a')];
    for (const { job: j } of jobs) scheduler.submit(j);
    release();
    expect(await Promise.all(jobs.map((j) => j.result))).toEqual([10, 20, 30, 40, 50, 60]);
    // The first job starts alone; then 2, 4 and 5 share a batch, 3 runs alone, 6 last.
    expect(batches).toEqual([[1], [2, 4, 5], [3], [6]]);
  });

  it('refuses with 429 and Retry-After when the queue is full', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const scheduler = new Scheduler<TestJob>({
      concurrency: 1,
      queueSize: 1,
      maxBatch: 1,
      async run(jobs) {
        await gate;
        for (const j of jobs) j.resolve(j.value);
      },
    });
    const running = job(1, undefined);
    const waiting = job(2, undefined);
    scheduler.submit(running.job);
    scheduler.submit(waiting.job);
    let refused: unknown;
    try {
      scheduler.submit(job(3, undefined).job);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ServerError);
    expect((refused as ServerError).status).toBe(429);
    expect(Number((refused as ServerError).headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    release();
    expect(await Promise.all([running.result, waiting.result])).toEqual([1, 2]);
  });

  it('drops a waiting job whose signal fires and never runs it', async () => {
    const ran: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const scheduler = new Scheduler<TestJob>({
      concurrency: 1,
      queueSize: 4,
      maxBatch: 1,
      async run(jobs) {
        ran.push(...jobs.map((j) => j.value));
        await gate;
        for (const j of jobs) j.resolve(j.value);
      },
    });
    const controller = new AbortController();
    const first = job(1, undefined);
    const second = job(2, undefined, controller.signal);
    scheduler.submit(first.job);
    scheduler.submit(second.job);
    expect(scheduler.depth).toBe(1);
    controller.abort(new Error('left'));
    await expect(second.result).rejects.toThrow('left');
    expect(scheduler.depth).toBe(0);
    release();
    await first.result;
    await scheduler.idle();
    expect(ran).toEqual([1]);
  });
});
