import { Queue, Worker } from 'bullmq';
import type { Logger } from '../core/logger.js';
import { withTimeout } from '../core/timeout.js';
import type { TaskQueue } from './queue.js';

/**
 * Redis errors said once per outage, not three times a second: the first error is logged, then
 * at most one line per `everyMs` with how many came since, and one line when the queue works
 * again.
 */
export class OutageLog {
  private failing = false;
  private startedAt = 0;
  private lastLineAt = 0;
  private sinceLine = 0;
  private total = 0;

  constructor(
    private readonly logger: Pick<Logger, 'warn' | 'info'>,
    private readonly everyMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  error(source: 'queue' | 'worker', e: Error): void {
    const t = this.now();
    this.total++;
    if (!this.failing) {
      this.failing = true;
      this.startedAt = this.lastLineAt = t;
      this.sinceLine = 0;
      this.total = 1;
      this.logger.warn({ err: e.message }, `pipeline ${source} (redis) error; tasks wait in the store until the queue works again`);
      return;
    }
    this.sinceLine++;
    if (t - this.lastLineAt < this.everyMs) return;
    this.logger.warn({ err: e.message, errors: this.sinceLine }, `pipeline queue (redis) still failing after ${Math.round((t - this.startedAt) / 1000)} s: ${this.sinceLine} more error(s) since the last line`);
    this.lastLineAt = t;
    this.sinceLine = 0;
  }

  /** The queue answered: ends an outage (said once). */
  ok(): void {
    if (!this.failing) return;
    this.failing = false;
    this.logger.info({ errors: this.total }, `pipeline queue (redis) works again after ${Math.round((this.now() - this.startedAt) / 1000)} s (${this.total} error(s))`);
  }
}

/**
 * BullMQ queue: a task has at most one job waiting, found by its deduplication id (the task id),
 * so adding twice is harmless; every daemon on the same Redis runs a worker with the configured
 * concurrency, so they share the work. The store stays the source of truth for task state; a
 * job only says "run this task". A job BullMQ hands to a second worker (its lock expired during
 * a Redis outage) finds the task under its first owner's live lease in the store and is dropped
 * there (engine.ts `claim`).
 *
 * A task added while its job is active is queued again when that job ends (BullMQ's
 * `keepLastIfActive`, as LocalQueue's `again`), in a job with an id of its own (BullMQ's
 * counter): a retry the moment a task failed comes while the job that ran it is still active
 * (until its run has returned, here or on another instance). With the task id as job id that
 * add did nothing, and the task waited for the re-queue sweep.
 */
const QUEUE_SOCKET_TIMEOUT_MS = 30_000;

/** How long a read or a removal waits for Redis: BullMQ (maxRetriesPerRequest: null) waits for as long as it is away. */
const QUEUE_CALL_MS = 2000;

export class BullQueue implements TaskQueue {
  readonly kind = 'bullmq' as const;
  private readonly queue: Queue;
  private worker: Worker | undefined;
  private readonly connection: { url: string; maxRetriesPerRequest: null; socketTimeout: number };
  private readonly outage: OutageLog;

  constructor(
    redisUrl: string,
    private readonly opts: {
      concurrency: number;
      prefix: string;
      logger: Logger;
      /** At most one line per this during a Redis outage (30 s). */
      outageLogMs?: number;
      /** BullMQ's job lock and stalled-job check (30 s each; tests make them short). */
      lockDurationMs?: number;
      stalledIntervalMs?: number;
      /** A link silent this long while commands wait is cut and reconnected (30 s; tests make it short). */
      socketTimeoutMs?: number;
    },
  ) {
    this.outage = new OutageLog(opts.logger, opts.outageLogMs);
    // socketTimeout: a link that stays open and answers nothing (a frozen Redis, a failover whose
    // old host vanished) is cut and opened again; without it the queue never came back (and
    // /health stayed 503). Longer than BullMQ's blocking waits for a job (5 s).
    this.connection = { url: redisUrl, maxRetriesPerRequest: null, socketTimeout: opts.socketTimeoutMs ?? QUEUE_SOCKET_TIMEOUT_MS };
    this.queue = new Queue('cco-pipeline', { connection: this.connection, prefix: opts.prefix });
    // the logger is the pipeline's child: it already says `module: "pipeline"`
    this.queue.on('error', (e) => this.outage.error('queue', e));
    this.queue.getBackend().on('ready', () => this.outage.ok());
  }

  async add(taskId: string, priority: number): Promise<void> {
    // Removed when done either way (its deduplication id with it), so the same task can be
    // queued again after a restart.
    const deduplication = { id: taskId, keepLastIfActive: true };
    await this.queue.add('task', { taskId }, { deduplication, priority: 11 - priority, removeOnComplete: true, removeOnFail: true, attempts: 1 });
    this.outage.ok();
  }

  async remove(taskId: string): Promise<void> {
    try {
      // Bounded: with Redis away, BullMQ waits for it (a cancel, already in the store, hung)
      await withTimeout(
        (async () => {
          const jobId = await this.queue.getDeduplicationJobId(taskId);
          if (jobId) await this.queue.remove(jobId);
        })(),
        QUEUE_CALL_MS,
        'the task queue',
      );
    } catch {
      // active elsewhere, or Redis away: the runner that takes the job sees the cancelled status in the store
    }
  }

  start(run: (taskId: string) => Promise<void>): void {
    this.worker = new Worker(
      'cco-pipeline',
      async (job) => {
        await run(String((job.data as { taskId: string }).taskId));
      },
      { connection: this.connection, prefix: this.opts.prefix, concurrency: this.opts.concurrency, lockDuration: this.opts.lockDurationMs ?? 30_000, stalledInterval: this.opts.stalledIntervalMs ?? 30_000 },
    );
    this.worker.on('error', (e) => this.outage.error('worker', e));
    this.worker.getBackend().on('ready', () => this.outage.ok());
  }

  pause(): void {
    // not waiting for the active jobs (they stop with the engine), nor for Redis
    this.worker?.pause(true).catch(() => undefined);
  }

  async depth(): Promise<number> {
    // bounded (for /metrics and /health): with Redis away, BullMQ waits for it
    const c = await withTimeout(this.queue.getJobCounts('wait', 'prioritized', 'delayed'), QUEUE_CALL_MS, 'the task queue (Redis)');
    this.outage.ok();
    return Object.values(c).reduce((a, b) => a + b, 0);
  }

  async close(): Promise<void> {
    // Bounded: with Redis unreachable, BullMQ's close would wait for it forever.
    await withTimeout(this.worker?.close() ?? Promise.resolve(), 5000, 'the task queue').catch(() => undefined);
    await withTimeout(this.queue.close(), 2000, 'the task queue').catch(() => undefined);
  }
}
