import type { Logger } from '../core/logger.js';

/**
 * How long a hook's answer waits for its event to be recorded. Claude Code waits on the answer
 * (its hook timeout is seconds, and a PreToolUse decision is in it): a database that is locked
 * by another writer, or a PostgreSQL that is away, must not hold every prompt and tool call for
 * the store's busy timeout and then lose the decision to a 503. A write that takes longer goes on
 * after the answer and lands when the database takes it.
 */
export const RECORD_WAIT_MS = 200;

/** Recordings still running after their answers went; past it, an event is not recorded (counted, logged once). */
export const MAX_LATE_RECORDS = 1000;

/**
 * The recording of Claude Code's hook events: each answer waits for its write up to
 * RECORD_WAIT_MS (on a healthy store, the event is durable before the answer), never fails
 * the answer, and the writes still running are bounded and finished at close.
 */
export class HookRecords {
  private readonly running = new Set<Promise<void>>();
  late = 0;
  failed = 0;
  dropped = 0;
  lastError: string | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly waitMs = RECORD_WAIT_MS,
    private readonly maxLate = MAX_LATE_RECORDS,
  ) {}

  /** Records one event (`write` returns its id, given to `recorded`); resolves when written, or after the wait. */
  async add(event: string, write: () => Promise<number>, recorded: (id: number) => void): Promise<void> {
    if (this.running.size >= this.maxLate) {
      if (this.dropped++ === 0) this.logger.warn({ event, running: this.running.size }, 'hook events are not being recorded: the database has not taken the last ones');
      return;
    }
    const p: Promise<void> = write()
      .then(recorded, (e: unknown) => {
        this.failed++;
        this.lastError = (e as Error).message;
        this.logger.warn({ err: this.lastError, event }, 'hook event not recorded');
      })
      .finally(() => this.running.delete(p));
    this.running.add(p);
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([p.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), this.waitMs)))]);
    clearTimeout(timer);
    if (waited) this.late++;
  }

  /** For /health: what did not go as it should, once anything did not. */
  health(): Record<string, unknown> {
    if (!this.late && !this.failed && !this.dropped) return {};
    return { records_late: this.late, records_failed: this.failed, records_dropped: this.dropped, records_running: this.running.size, ...(this.lastError ? { last_record_error: this.lastError } : {}) };
  }

  /** Resolves once every write started so far has ended. */
  async settled(): Promise<void> {
    while (this.running.size) await Promise.all(this.running);
  }
}
