import { matches } from './events-repo.js';
import type { EventHeader, EventInput, EventQuery, EventsRepo, StoredEvent } from './events-repo.js';
import type { AbortLike } from '../core/abort.js';

/**
 * How a bus learns that events were stored (possibly by another daemon instance). A wake-up
 * carries only the header; every consumer then reads the store after its own cursor, so a
 * lost, late or duplicated wake-up can delay an event but never lose or repeat one.
 */
export interface WakeNotifier {
  readonly kind: 'in-process' | 'redis';
  notify(h: EventHeader): Promise<void>;
  /**
   * `fn(undefined)`: wake-ups may have been missed (a link to other instances came back), every
   * consumer should read the store again.
   */
  onWake(fn: (h: EventHeader | undefined) => void): () => void;
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}

/** Wake-ups inside this process only (the default). */
export class LocalNotifier implements WakeNotifier {
  readonly kind = 'in-process' as const;
  private readonly fns = new Set<(h: EventHeader) => void>();
  async notify(h: EventHeader): Promise<void> {
    for (const f of this.fns) f(h);
  }
  onWake(fn: (h: EventHeader) => void): () => void {
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }
  async healthy(): Promise<boolean> {
    return true;
  }
  async close(): Promise<void> {
    this.fns.clear();
  }
}

export interface WaitResult {
  events: StoredEvent[];
  /** Cursor to pass as `after` next time. */
  cursor: number;
  timed_out: boolean;
}

export interface BusStats {
  backend: WakeNotifier['kind'];
  published_since_start: number;
  waiters: number;
  subscriptions: number;
  /** Subscriptions whose reader has not taken what was sent yet (reading paused until it has). */
  subscriptions_behind: number;
  /** Wake-ups being processed right now (woken consumers still reading the store). */
  queue_depth: number;
}

interface Consumer {
  q: EventQuery;
  wake(): void;
}

/**
 * The event bus agents coordinate through: publish persists to the store (the acknowledgement
 * means it is durable) and then wakes matching waiters and subscribers; long-poll waits and SSE
 * streams both read the store after their cursor.
 */
export class EventBus {
  private readonly consumers = new Set<Consumer>();
  private published = 0;
  private waiting = 0;
  private streams = 0;
  private behind = 0;
  private inflight = 0;
  private readonly offWake: () => void;

  constructor(
    private readonly repo: EventsRepo,
    private readonly notifier: WakeNotifier,
  ) {
    this.offWake = notifier.onWake((h) => this.dispatch(h));
  }

  async publish(input: EventInput): Promise<StoredEvent> {
    const ev = await this.repo.insert(input);
    this.published++;
    const h: EventHeader = { id: ev.id, event_type: ev.event_type, topic: ev.topic, publisher: ev.publisher, issue_id: ev.issue_id };
    await this.notifier.notify(h);
    return ev;
  }

  /** The newest event's id (0 when there is none). */
  newestId(): Promise<number> {
    return this.repo.newestId();
  }

  read(q: EventQuery, after: number, limit = 100): Promise<StoredEvent[]> {
    return this.repo.after(q, after, limit);
  }

  /**
   * Events matching `q` after `after`: at once if there are some, else as soon as one is
   * published, else `[]` after `timeoutMs`. The consumer is registered before the store is
   * read, so an event stored in between still wakes it.
   */
  async wait(q: EventQuery, after: number, timeoutMs: number, opts: { limit?: number; signal?: AbortLike } = {}): Promise<WaitResult> {
    // fast path: events already there need no registration
    const ready = await this.repo.after(q, after, opts.limit ?? 100);
    if (ready.length || timeoutMs <= 0) return ready.length ? { events: ready, cursor: (ready[ready.length - 1] as StoredEvent).id, timed_out: false } : { events: [], cursor: after, timed_out: true };
    return this.park(q, after, timeoutMs, opts);
  }

  /** `wait` without the first unregistered read (for callers that just read and found nothing). */
  async park(q: EventQuery, after: number, timeoutMs: number, opts: { limit?: number; signal?: AbortLike } = {}): Promise<WaitResult> {
    let pending = false;
    let release: (() => void) | undefined;
    const c: Consumer = {
      q,
      wake: () => {
        pending = true;
        release?.();
      },
    };
    this.consumers.add(c);
    this.waiting++;
    const deadline = Date.now() + timeoutMs;
    let woke = false;
    try {
      for (;;) {
        pending = false;
        let events: StoredEvent[];
        try {
          events = await this.repo.after(q, after, opts.limit ?? 100);
        } finally {
          if (woke) this.inflight--;
          woke = false;
        }
        if (events.length) return { events, cursor: (events[events.length - 1] as StoredEvent).id, timed_out: false };
        if (pending) continue;
        const remaining = deadline - Date.now();
        if (remaining <= 0 || opts.signal?.aborted) return { events: [], cursor: after, timed_out: true };
        const why = await new Promise<'wake' | 'timeout' | 'abort'>((resolve) => {
          const onAbort = (): void => done('abort');
          const timer = setTimeout(() => done('timeout'), remaining);
          const done = (w: 'wake' | 'timeout' | 'abort'): void => {
            clearTimeout(timer);
            opts.signal?.removeEventListener('abort', onAbort);
            release = undefined;
            resolve(w);
          };
          opts.signal?.addEventListener('abort', onAbort, { once: true });
          release = () => done('wake');
        });
        if (why === 'abort') return { events: [], cursor: after, timed_out: false };
        if (why === 'timeout') {
          const last = await this.repo.after(q, after, opts.limit ?? 100);
          return last.length ? { events: last, cursor: (last[last.length - 1] as StoredEvent).id, timed_out: false } : { events: [], cursor: after, timed_out: true };
        }
        // counted in queue_depth until the loop's next read is done
        this.inflight++;
        woke = true;
      }
    } finally {
      this.consumers.delete(c);
      this.waiting--;
    }
  }

  /**
   * A live subscription (SSE): the backlog after `after`, then every later matching event, each
   * exactly once and in cursor order. Returns the unsubscribe function.
   */
  subscribe(q: EventQuery, after: number, onEvents: (events: StoredEvent[]) => void | Promise<void>, onError: (e: unknown) => void = () => undefined): () => void {
    let cursor = after;
    let running = false;
    let again = false;
    let closed = false;
    const pump = async (): Promise<void> => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      this.inflight++;
      try {
        do {
          again = false;
          const events = await this.repo.after(q, cursor, 500);
          if (closed) return;
          if (events.length) {
            cursor = (events[events.length - 1] as StoredEvent).id;
            // a consumer that is behind (a slow reader) is read for again once it has caught up
            const taken = onEvents(events);
            if (taken) {
              this.behind++;
              this.inflight--;
              try {
                await taken;
              } finally {
                this.behind--;
                this.inflight++;
              }
            }
            // a read is bounded by count and by bytes (EventsRepo.after): one that gave anything may have left more
            again = true;
          }
        } while (again && !closed);
      } catch (e) {
        onError(e);
      } finally {
        running = false;
        this.inflight--;
      }
    };
    const c: Consumer = { q, wake: () => void pump() };
    this.consumers.add(c);
    this.streams++;
    void pump();
    return () => {
      if (closed) return;
      closed = true;
      this.consumers.delete(c);
      this.streams--;
    };
  }

  stats(): BusStats {
    return { backend: this.notifier.kind, published_since_start: this.published, waiters: this.waiting, subscriptions: this.streams, subscriptions_behind: this.behind, queue_depth: this.inflight };
  }

  /** Events ever published (the store's count: survives restarts). */
  totalPublished(): Promise<number> {
    return this.repo.count();
  }

  healthy(): Promise<boolean> {
    return this.notifier.healthy();
  }

  async close(): Promise<void> {
    this.offWake();
    await this.notifier.close();
  }

  private dispatch(h: EventHeader | undefined): void {
    for (const c of this.consumers) if (h === undefined || matches(c.q, h)) c.wake();
  }
}
