import { CircuitBreaker } from './breaker.js';
import type { BreakerState, BreakerTransition } from './breaker.js';
import { ConcurrencyQueue } from './queue.js';

/** The name that means every LLM provider's breaker (MCP `reset_circuit_breaker {"service":"llm"}`, the guides' word). */
export const ALL_LLM_PROVIDERS = 'llm';

/** Whether a breaker name given by a caller means all of them ("llm", in any case). */
export const meansAllProviders = (name: string): boolean => name.trim().toLowerCase() === ALL_LLM_PROVIDERS;

const SEVERITY: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/** The worst state over the providers' breakers ('closed' when there are none yet). */
export function worstBreakerState(states: Iterable<BreakerState>): BreakerState {
  let worst: BreakerState = 'closed';
  for (const s of states) if (SEVERITY[s] > SEVERITY[worst]) worst = s;
  return worst;
}

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
  private onTransition: ((t: BreakerTransition) => void) | undefined;

  constructor(private breakerOpts: { failureThreshold: number; openMs: number }) {}

  configureBreakers(opts: { failureThreshold: number; openMs: number }): void {
    this.breakerOpts = opts;
    for (const s of this.states.values()) s.breaker.configure(opts);
  }

  /** Who is told when any provider's breaker changes state (the gateway logs it). */
  onBreakerTransition(listener: (t: BreakerTransition) => void): void {
    this.onTransition = listener;
    for (const s of this.states.values()) s.breaker.watch(listener);
  }

  get(name: string, limits: ProviderLimits): ProviderState {
    let s = this.states.get(name);
    if (!s) {
      s = { breaker: new CircuitBreaker(name, this.breakerOpts), queue: new ConcurrencyQueue(limits.maxConcurrency, limits.maxQueue) };
      s.breaker.watch(this.onTransition);
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

  /** Closes the breaker of one provider (or all: no name, or "llm"); returns the names reset. */
  resetBreakers(name?: string): string[] {
    const names = !name || meansAllProviders(name) ? [...this.states.keys()] : [name];
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
