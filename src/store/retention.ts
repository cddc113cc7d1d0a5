import type { Logger } from '../core/logger.js';

export const DAY_MS = 24 * 3600 * 1000;
/** Rows one prune statement deletes at most: short transactions, others' writes go in between. */
export const PRUNE_BATCH = 1000;
/**
 * Bytes of payload one prune statement deletes at most: freeing a row's overflow pages costs by
 * its size (SQLite: 1,000 hook events of 1 MB took 1.7 s to delete, 100 of 64 KB 12 ms).
 */
export const PRUNE_MAX_BYTES = 8 * 1024 * 1024;
/** How often a module prunes its tables (and once at its start). */
export const PRUNE_INTERVAL_MS = 3600 * 1000;

/** Rows and bytes a statement at most; `stopped` is asked before each one (a closing module ends its prune there). */
export interface PruneOptions {
  batch?: number;
  maxBytes?: number;
  stopped?: () => boolean;
}

/** One table (or set of rows) to prune: `prune` deletes what is older than `before` (epoch ms) and counts it. */
export interface RetentionTask {
  name: string;
  /** Days kept; 0 keeps everything (the task never runs). */
  days: number;
  prune(before: number, opts: PruneOptions): Promise<number>;
}

/** How many of the rows (oldest first, with their sizes) one statement takes: within `maxBytes`, at least one. */
export function rowsWithin(sizes: readonly number[], maxBytes = PRUNE_MAX_BYTES): number {
  let n = 0;
  let bytes = 0;
  while (n < sizes.length && (n === 0 || bytes + (sizes[n] as number) <= maxBytes)) bytes += sizes[n++] as number;
  return n;
}

/** Lets the event loop (requests, the other writers) run between two prune statements. */
export const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs a module's retention tasks once at start and then every `intervalMs` on an unref'd timer
 * (never what keeps the process alive); `stop` ends the timer and waits for a pass in progress,
 * which stops after its current batch.
 */
export class RetentionTimer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<Record<string, number>> | undefined;
  private stopped = false;

  constructor(
    private readonly tasks: readonly RetentionTask[],
    private readonly opts: { logger: Logger; intervalMs?: number; batch?: number; now?: () => number },
  ) {}

  /** Nothing to do when every task keeps everything. */
  get enabled(): boolean {
    return this.tasks.some((t) => t.days > 0);
  }

  start(): void {
    if (!this.enabled || this.stopped || this.timer) return;
    void this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.opts.intervalMs ?? PRUNE_INTERVAL_MS);
    this.timer.unref();
  }

  /** One pass over the tasks (a pass still running is joined): rows deleted per task. */
  runOnce(): Promise<Record<string, number>> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async pass(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    const now = (this.opts.now ?? Date.now)();
    for (const t of this.tasks) {
      if (t.days <= 0 || this.stopped) continue;
      try {
        out[t.name] = await t.prune(now - t.days * DAY_MS, { batch: this.opts.batch ?? PRUNE_BATCH, stopped: () => this.stopped });
        if (out[t.name]) this.opts.logger.info({ table: t.name, deleted: out[t.name], days: t.days }, 'retention: pruned old rows');
      } catch (e) {
        // a store that does not answer now: the next pass tries again
        this.opts.logger.warn({ table: t.name, err: (e as Error).message }, 'retention: prune failed');
      }
    }
    return out;
  }
}
