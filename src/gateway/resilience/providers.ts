import { CircuitBreaker } from './breaker.js';
import type { BreakerState } from './breaker.js';
import { ConcurrencyQueue } from './queue.js';

export interface ProviderLimits {
  maxConcurrency: number;
  maxQueue: number;
}

export interface ProviderState {
  breaker: CircuitBreaker;
  queue: ConcurrencyQueue;
}

/** Per-provider resilience state (breaker + queue), created on first use, kept across reloads. */
export class ProviderPool {
  private readonly states = new Map<string, ProviderState>();

  constructor(private breakerOpts: { failureThreshold: number; openMs: number }) {}

  configureBreakers(opts: { failureThreshold: number; openMs: number }): void {
    this.breakerOpts = opts;
    for (const s of this.states.values()) s.breaker.configure(opts);
  }

  get(name: string, limits: ProviderLimits): ProviderState {
    let s = this.states.get(name);
    if (!s) {
      s = { breaker: new CircuitBreaker(name, this.breakerOpts), queue: new ConcurrencyQueue(limits.maxConcurrency, limits.maxQueue) };
      this.states.set(name, s);
    } else s.queue.configure(limits.maxConcurrency, limits.maxQueue);
    return s;
  }

  /** Breaker state per provider seen so far. */
  breakers(): Record<string, ReturnType<CircuitBreaker['snapshot']>> {
    const out: Record<string, ReturnType<CircuitBreaker['snapshot']>> = {};
    for (const [n, s] of this.states) out[n] = s.breaker.snapshot();
    return out;
  }

  /** Closes the breaker of one provider (or all); returns the names reset. */
  resetBreakers(name?: string): string[] {
    const names = name ? [name] : [...this.states.keys()];
    const done: string[] = [];
    for (const n of names) {
      const s = this.states.get(n);
      if (s) {
        s.breaker.reset();
        done.push(n);
      }
    }
    return done;
  }

  queues(): Record<string, { depth: number; inFlight: number }> {
    const out: Record<string, { depth: number; inFlight: number }> = {};
    for (const [n, s] of this.states) out[n] = { depth: s.queue.depth, inFlight: s.queue.inFlight };
    return out;
  }

  entries(): [string, ProviderState][] {
    return [...this.states.entries()];
  }
}

export const BREAKER_GAUGE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };
