import { Queue, Worker } from 'bullmq';
import type { Logger } from '../core/logger.js';
import { withTimeout } from '../core/timeout.js';
import type { TaskQueue } from './queue.js';

/**
 * BullMQ queue: each task is a job (`jobId` = task id, so adding twice is harmless); every
 * daemon on the same Redis runs a worker with the configured concurrency, so they share the
 * work. The store stays the source of truth for task state; a job only says "run this task".
 */
export class BullQueue implements TaskQueue {
  readonly kind = 'bullmq' as const;
  private readonly queue: Queue;
  private worker: Worker | undefined;
  private readonly connection: { url: string; maxRetriesPerRequest: null };

  constructor(
    redisUrl: string,
    private readonly opts: { concurrency: number; prefix: string; logger: Logger },
  ) {
    this.connection = { url: redisUrl, maxRetriesPerRequest: null };
    this.queue = new Queue('cco-pipeline', { connection: this.connection, prefix: opts.prefix });
    this.queue.on('error', (e) => opts.logger.warn({ module: 'pipeline', err: e.message }, 'pipeline queue (redis) error'));
  }

  async add(taskId: string, priority: number): Promise<void> {
    // Removed when done either way, so the same task can be queued again after a restart.
    await this.queue.add('task', { taskId }, { jobId: taskId, priority: 11 - priority, removeOnComplete: true, removeOnFail: true, attempts: 1 });
  }

  async remove(taskId: string): Promise<void> {
    try {
      await this.queue.remove(taskId);
    } catch {
      // active elsewhere: the runner there sees the cancelled status in the store
    }
  }

  start(run: (taskId: string) => Promise<void>): void {
    this.worker = new Worker(
      'cco-pipeline',
      async (job) => {
        await run(String((job.data as { taskId: string }).taskId));
      },
      { connection: this.connection, prefix: this.opts.prefix, concurrency: this.opts.concurrency, lockDuration: 30_000 },
    );
    this.worker.on('error', (e) => this.opts.logger.warn({ module: 'pipeline', err: e.message }, 'pipeline worker (redis) error'));
  }

  async depth(): Promise<number> {
    const c = await this.queue.getJobCounts('wait', 'prioritized', 'delayed');
    return Object.values(c).reduce((a, b) => a + b, 0);
  }

  async close(): Promise<void> {
    // Bounded: with Redis unreachable, BullMQ's close would wait for it forever.
    await withTimeout(this.worker?.close() ?? Promise.resolve(), 5000, 'the task queue').catch(() => undefined);
    await withTimeout(this.queue.close(), 2000, 'the task queue').catch(() => undefined);
  }
}
