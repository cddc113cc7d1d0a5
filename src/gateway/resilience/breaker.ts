/** Breaker states, as reported in /health and /metrics (gauge: 0 closed, 1 half-open, 2 open). */
export type BreakerState = 'closed' | 'open' | 'half_open';

/** How a request was let through: as ordinary traffic, or as the half-open circuit's one probe. */
export type Admission = 'pass' | 'probe';

/** A change of a breaker's state, told once when it happens (the daemon logs it). */
export interface BreakerTransition {
  provider: string;
  from: BreakerState;
  to: BreakerState;
  /** Consecutive failures counted so far (what opened it). */
  failures: number;
  /** When it opens: milliseconds until it lets a probe request through. */
  retryInMs: number;
  /** What closed it: a request that succeeded, or a reset by hand. */
  closedBy?: 'success' | 'reset';
}

export interface BreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long it stays open before one probe request is let through. */
  openMs: number;
  now?: () => number;
}

/**
 * A circuit breaker per provider: closed → open after N consecutive failures → after `openMs`
 * half-open, where exactly one probe goes through; its success closes the circuit, its failure
 * opens it again. Failures are 5xx/529, timeouts and connection errors, not client errors.
 */
export class CircuitBreaker {
  private st: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private readonly now: () => number;
  private onTransition: ((t: BreakerTransition) => void) | undefined;
  /** Total transitions to open (for status). */
  opens = 0;

  constructor(
    readonly name: string,
    private opts: BreakerOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  configure(opts: Omit<BreakerOptions, 'now'>): void {
    this.opts = { ...this.opts, ...opts };
  }

  /** Who is told of each change of state (one listener; the pool's). */
  watch(listener: ((t: BreakerTransition) => void) | undefined): void {
    this.onTransition = listener;
  }

  get state(): BreakerState {
    if (this.st === 'open' && this.now() - this.openedAt >= this.opts.openMs) return 'half_open';
    return this.st;
  }

  /** May a request go now (undefined: no)? In half-open only one probe at a time is admitted. */
  admit(): Admission | undefined {
    const s = this.state;
    if (s === 'closed') return 'pass';
    if (s === 'open') return undefined;
    if (this.probing) return undefined;
    this.probing = true;
    // half-open is computed from the clock until the probe goes: this is when it is told
    if (this.st === 'open') this.tell('open', 'half_open');
    this.st = 'half_open';
    return 'probe';
  }

  success(): void {
    const from = this.st;
    this.failures = 0;
    this.probing = false;
    this.st = 'closed';
    if (from !== 'closed') this.tell(from, 'closed', 'success');
  }

  failure(): void {
    this.probing = false;
    this.failures++;
    if (this.st === 'half_open' || this.failures >= this.opts.failureThreshold) {
      const from = this.st;
      this.st = 'open';
      this.openedAt = this.now();
      // failures of requests admitted before it opened keep it open longer, without a new opening
      if (from !== 'open') {
        this.opens++;
        this.tell(from, 'open');
      }
    }
  }

  /**
   * A request that ended without a verdict (its client went away): when it was the probe, the
   * half-open slot is free again. Any other request leaves the slot alone (a request admitted
   * before the circuit opened freed it while the probe was still out: two probes at once).
   */
  release(admission: Admission): void {
    if (admission === 'probe') this.probing = false;
  }

  reset(): void {
    const from = this.state;
    this.st = 'closed';
    this.failures = 0;
    this.probing = false;
    if (from !== 'closed') this.tell(from, 'closed', 'reset');
  }

  private tell(from: BreakerState, to: BreakerState, closedBy?: 'success' | 'reset'): void {
    this.onTransition?.({ provider: this.name, from, to, failures: this.failures, retryInMs: this.retryInMs(), ...(closedBy ? { closedBy } : {}) });
  }

  /** Milliseconds until an open circuit admits a probe (0 when not open). */
  retryInMs(): number {
    return this.st === 'open' ? Math.max(0, this.opts.openMs - (this.now() - this.openedAt)) : 0;
  }

  snapshot(): { state: BreakerState; consecutiveFailures: number; opens: number; retryInMs: number } {
    return { state: this.state, consecutiveFailures: this.failures, opens: this.opens, retryInMs: this.retryInMs() };
  }
}
