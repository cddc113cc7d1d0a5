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

/** What every provider's breaker is built with. */
export interface BreakerSettings {
  failureThreshold: number;
  openMs: number;
}

/**
 * The routing file's breaker settings with CIRCUIT_BREAKER_FAILURE_THRESHOLD (1–1000) and
 * CIRCUIT_BREAKER_RECOVERY_TIMEOUT (seconds, 1–3600) winning over them, as the troubleshooting
 * guides set them; a value that is not a whole number in range is ignored. Applied only to the
 * breakers in force, never to the parsed file: the improvement cycle writes that back, and the
 * variables must neither replace the file's values nor outlive being unset.
 */
export function breakerSettingsWithEnv(file: BreakerSettings, env: NodeJS.ProcessEnv): BreakerSettings {
  const threshold = envInt(env, 'CIRCUIT_BREAKER_FAILURE_THRESHOLD', 1, 1000);
  const seconds = envInt(env, 'CIRCUIT_BREAKER_RECOVERY_TIMEOUT', 1, 3600);
  return { failureThreshold: threshold ?? file.failureThreshold, openMs: seconds !== undefined ? seconds * 1000 : file.openMs };
}

/** An integer environment variable within bounds; anything else counts as unset. */
function envInt(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number | undefined {
  const v = env[name]?.trim();
  if (!v || !/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return n >= min && n <= max ? n : undefined;
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
  private breakerOpts: BreakerSettings;

  /** `fromFile`: the routing file's `breaker`; `env` (the daemon's, `.env` included) may override it. */
  constructor(
    fromFile: BreakerSettings,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.breakerOpts = breakerSettingsWithEnv(fromFile, env);
  }

  /** A new routing file's `breaker` (reload, improvement cycle); the variables still win. */
  configureBreakers(fromFile: BreakerSettings): void {
    this.breakerOpts = breakerSettingsWithEnv(fromFile, this.env);
    for (const s of this.states.values()) s.breaker.configure(this.breakerOpts);
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
