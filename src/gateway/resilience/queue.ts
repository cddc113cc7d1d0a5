import type { AbortLike } from '../../core/abort.js';
/** Thrown when the queue is full or the waiter was aborted. */
export class QueueError extends Error {
  constructor(
    message: string,
    readonly code: 'queue_full' | 'aborted',
  ) {
    super(message);
    this.name = 'QueueError';
  }
}

interface Waiter {
  resolve(release: () => void): void;
  reject(e: Error): void;
  signal: AbortLike | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * A concurrency limit with a FIFO queue (one per provider). `acquire()` resolves with a release
 * function once a slot is free; waiting can be aborted (client went away) and the queue is
 * bounded. Depth and in-flight counts feed /metrics.
 */
export class ConcurrencyQueue {
  private active = 0;
  private readonly waiters: Waiter[] = [];

  constructor(
    private limit: number,
    private maxQueue: number,
  ) {}

  configure(limit: number, maxQueue: number): void {
    this.limit = limit;
    this.maxQueue = maxQueue;
    this.drain();
  }

  get depth(): number {
    return this.waiters.length;
  }

  get inFlight(): number {
    return this.active;
  }

  acquire(signal?: AbortLike): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(new QueueError('request aborted while queued', 'aborted'));
    if (this.active < this.limit && this.waiters.length === 0) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiters.length >= this.maxQueue) {
      return Promise.reject(new QueueError(`provider queue is full (${this.maxQueue} waiting)`, 'queue_full'));
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = { resolve, reject, signal, onAbort: undefined };
      if (signal) {
        w.onAbort = () => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new QueueError('request aborted while queued', 'aborted'));
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.waiters.push(w);
    });
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.active--;
      this.drain();
    };
  }

  private drain(): void {
    while (this.active < this.limit && this.waiters.length) {
      const w = this.waiters.shift() as Waiter;
      if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
      this.active++;
      w.resolve(this.releaser());
    }
  }
}
