import type { Logger } from '../core/logger.js';

/** Where tasks wait for a runner: in-process, or BullMQ on Redis (shared by several daemons). */
export interface TaskQueue {
  readonly kind: 'local' | 'bullmq';
  /**
   * Adds a task: a no-op if it is already waiting; added while it runs (a retry the moment it
   * failed), it is queued again once that run has ended. Priority 1..10, higher first.
   */
  add(taskId: string, priority: number): Promise<void>;
  /** Forgets a waiting task (cancel). */
  remove(taskId: string): Promise<void>;
  /** Starts taking tasks; `run` resolves when the task has ended or stopped. */
  start(run: (taskId: string) => Promise<void>): void;
  depth(): Promise<number>;
  /**
   * Takes no more tasks (a stop began): the waiting ones stay queued, for another instance or the
   * next start. (A stopping engine declines every task it is given: taken now, a shared queue's
   * job would be used up without running.)
   */
  pause(): void;
  close(): Promise<void>;
}

/** In-process queue: priority first, then arrival; at most `concurrency` tasks at once. */
export class LocalQueue implements TaskQueue {
  readonly kind = 'local' as const;
  private readonly waiting: { id: string; priority: number; seq: number }[] = [];
  private readonly active = new Set<string>();
  /** Tasks added while they were still running here (a retry right after the end): queued once that run is over. */
  private readonly again = new Map<string, number>();
  private seq = 0;
  private run: ((id: string) => Promise<void>) | undefined;
  private closed = false;
  private readonly idle = new Set<() => void>();

  constructor(
    private readonly concurrency: number,
    private readonly logger: Logger,
  ) {}

  async add(taskId: string, priority: number): Promise<void> {
    if (this.active.has(taskId)) {
      this.again.set(taskId, priority);
      return;
    }
    if (this.waiting.some((w) => w.id === taskId)) return;
    this.waiting.push({ id: taskId, priority, seq: this.seq++ });
    this.waiting.sort((a, b) => b.priority - a.priority || a.seq - b.seq);
    this.pump();
  }

  async remove(taskId: string): Promise<void> {
    this.again.delete(taskId);
    const i = this.waiting.findIndex((w) => w.id === taskId);
    if (i >= 0) this.waiting.splice(i, 1);
  }

  start(run: (taskId: string) => Promise<void>): void {
    this.run = run;
    this.pump();
  }

  private pump(): void {
    const run = this.run;
    if (!run || this.closed) return;
    while (this.active.size < this.concurrency && this.waiting.length > 0) {
      const next = this.waiting.shift() as { id: string };
      this.active.add(next.id);
      run(next.id)
        .catch((e: unknown) => this.logger.error({ task_id: next.id, err: (e as Error).message }, 'task runner crashed'))
        .finally(() => {
          this.active.delete(next.id);
          const priority = this.again.get(next.id);
          this.again.delete(next.id);
          if (this.active.size === 0) for (const f of this.idle) f();
          if (priority !== undefined) void this.add(next.id, priority);
          else this.pump();
        });
    }
  }

  async depth(): Promise<number> {
    return this.waiting.length;
  }

  pause(): void {
    this.closed = true;
  }

  /** Stops starting tasks and waits (bounded) for the active ones to stop. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.active.size === 0) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 5000);
      this.idle.add(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

/**
 * The seeds' "queue backing up" warning: said once when the waiting tasks reach `threshold`,
 * and again only after the queue has drained below half of it.
 */
export class BacklogWatch {
  private warned = false;

  constructor(
    private readonly threshold: number,
    private readonly concurrency: number,
    private readonly logger: Pick<Logger, 'warn' | 'info'>,
  ) {}

  check(waiting: number): void {
    if (!this.warned && waiting >= this.threshold) {
      this.warned = true;
      this.logger.warn({ waiting, concurrency: this.concurrency }, `Task queue backing up: ${waiting} pending for ${this.concurrency} runner(s); they will run in turn (raise [pipeline] concurrency in daemon.toml to run more at once)`);
    } else if (this.warned && waiting < this.threshold / 2) {
      this.warned = false;
      this.logger.info({ waiting }, 'pipeline queue caught up');
    }
  }
}
