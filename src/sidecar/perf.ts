/**
 * Response-time and request-rate figures for `/status`, measured over a sliding window of
 * recent requests (the last `windowMs`, at most `capacity` samples) in a ring buffer.
 */
export class SlidingWindowStats {
  private readonly times: Float64Array;
  private readonly durations: Float64Array;
  private next = 0;
  private count = 0;

  constructor(
    private readonly windowMs = 60_000,
    private readonly capacity = 8192,
    /** When measuring began (a rate over the first minute covers only the time since). */
    private readonly startedAt = Date.now(),
  ) {
    this.times = new Float64Array(capacity);
    this.durations = new Float64Array(capacity);
  }

  record(durationMs: number, now = Date.now()): void {
    this.times[this.next] = now;
    this.durations[this.next] = durationMs;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** avg and p99 of response times (ms), and requests per second over the window. */
  snapshot(now = Date.now()): { avg_response_time_ms: number; p99_response_time_ms: number; requests_per_second: number; samples: number } {
    const since = now - this.windowMs;
    const ds: number[] = [];
    let oldest = now;
    for (let k = 0; k < this.count; k++) {
      const t = this.times[k] as number;
      if (t < since) continue;
      ds.push(this.durations[k] as number);
      if (t < oldest) oldest = t;
    }
    if (ds.length === 0) return { avg_response_time_ms: 0, p99_response_time_ms: 0, requests_per_second: 0, samples: 0 };
    ds.sort((a, b) => a - b);
    const avg = ds.reduce((s, d) => s + d, 0) / ds.length;
    const p99 = ds[Math.min(ds.length - 1, Math.ceil(ds.length * 0.99) - 1)] as number;
    // Rate over the window, or the time since measuring began when that is shorter. Only a full
    // ring that has dropped samples inside the window covers less: then the span of what it holds.
    // (Over the oldest sample's age, a burst of 30 in the last half second read 30/s, not 0.5/s.)
    const dropped = this.count === this.capacity && oldest >= since;
    const spanMs = dropped ? now - oldest : Math.min(this.windowMs, now - this.startedAt);
    const spanS = Math.max(1000, spanMs) / 1000;
    return {
      avg_response_time_ms: round(avg),
      p99_response_time_ms: round(p99),
      requests_per_second: round(ds.length / spanS),
      samples: ds.length,
    };
  }
}

const round = (n: number): number => Math.round(n * 100) / 100;
