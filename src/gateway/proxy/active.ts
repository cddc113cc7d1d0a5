/** A request in flight, as /api/debug/active-requests shows it and /api/requests/kill ends it. */
export interface ActiveRequest {
  id: string;
  startedAt: number;
  model: string;
  provider: string | null;
  endpoint: string;
  stream: boolean;
  sessionId: string | null;
  /** Bytes relayed to the client so far. */
  bytes: number;
  state: 'routing' | 'queued' | 'upstream' | 'streaming' | 'cache';
  abort(reason: Error): void;
}

/** Registry of in-flight requests. */
export class ActiveRequests {
  private readonly map = new Map<string, ActiveRequest>();
  private waiters: (() => void)[] = [];

  add(r: ActiveRequest): void {
    this.map.set(r.id, r);
  }

  remove(id: string): void {
    this.map.delete(id);
    if (this.map.size === 0 && this.waiters.length) {
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
  }

  /**
   * Resolves when no request is in flight, or after `timeoutMs` (then aborting what is left).
   * Shutdown waits for it so that every finished request is recorded before the writer closes.
   */
  async settle(timeoutMs: number, reason: () => Error): Promise<void> {
    if (this.map.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((done) => this.waiters.push(done)),
      new Promise<void>((done) => {
        timer = setTimeout(() => {
          this.kill(0, reason);
          done();
        }, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  get count(): number {
    return this.map.size;
  }

  list(now = Date.now()): (Omit<ActiveRequest, 'abort'> & { ageMs: number })[] {
    return [...this.map.values()]
      .map(({ abort: _a, ...r }) => ({ ...r, ageMs: now - r.startedAt }))
      .sort((a, b) => b.ageMs - a.ageMs);
  }

  /** Aborts requests older than `olderThanMs`; returns their ids. */
  kill(olderThanMs: number, reason: () => Error, now = Date.now()): string[] {
    const ids: string[] = [];
    for (const r of this.map.values()) {
      if (now - r.startedAt >= olderThanMs) {
        r.abort(reason());
        ids.push(r.id);
      }
    }
    return ids;
  }
}
