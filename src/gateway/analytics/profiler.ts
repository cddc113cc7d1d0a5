/**
 * Query profiling for /api/database/profile: while enabled, every analytics query is timed by
 * name; /api/database/profile-results lists them slowest first.
 */
export class QueryProfiler {
  private enabledUntil = 0;
  private readonly stats = new Map<string, { calls: number; totalMs: number; maxMs: number }>();

  enable(durationMs: number): { enabled: true; until: number } {
    this.enabledUntil = Date.now() + durationMs;
    this.stats.clear();
    return { enabled: true, until: this.enabledUntil };
  }

  get enabled(): boolean {
    return Date.now() < this.enabledUntil;
  }

  async time<T>(name: string, fn: () => Promise<T>): Promise<T> {
    if (!this.enabled) return fn();
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.note(name, performance.now() - t0);
    }
  }

  note(name: string, ms: number): void {
    const s = this.stats.get(name) ?? { calls: 0, totalMs: 0, maxMs: 0 };
    s.calls++;
    s.totalMs += ms;
    s.maxMs = Math.max(s.maxMs, ms);
    this.stats.set(name, s);
  }

  results(): { enabled: boolean; until: number | null; queries: { query: string; calls: number; totalMs: number; avgMs: number; maxMs: number }[] } {
    const queries = [...this.stats.entries()]
      .map(([query, s]) => ({ query, calls: s.calls, totalMs: round(s.totalMs), avgMs: round(s.totalMs / s.calls), maxMs: round(s.maxMs) }))
      .sort((a, b) => b.avgMs - a.avgMs);
    return { enabled: this.enabled, until: this.enabledUntil || null, queries };
  }
}

const round = (v: number): number => Math.round(v * 100) / 100;
