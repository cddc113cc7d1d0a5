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
  /** Its place in the registry (set by `ActiveRequests.add`; -1 when not in it). */
  slot: number;
  /** The client's response (a shutdown asks it to close its connection once answered). */
  res?: { readonly headersSent: boolean; shouldKeepAlive: boolean };
}

/**
 * Registry of in-flight requests: an array, each request knowing its place, removed by moving the
 * last one into it. (A Map keyed by id rehashed its table every few requests as they came and
 * went; each new table outlived a scavenge or two and died in V8's old generation: ~0.1 KB promoted
 * per request, docs/benchmarks/gateway.md, tenth session.)
 */
export class ActiveRequests {
  private readonly all: ActiveRequest[] = [];
  private waiters: (() => void)[] = [];

  add(r: ActiveRequest): void {
    r.slot = this.all.length;
    this.all.push(r);
  }

  remove(r: ActiveRequest): void {
    const all = this.all;
    const i = r.slot;
    if (i < 0 || all[i] !== r) return;
    const last = all.pop() as ActiveRequest;
    if (last !== r) {
      all[i] = last;
      last.slot = i;
    }
    r.slot = -1;
    if (all.length === 0 && this.waiters.length) {
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
    if (this.all.length === 0) return;
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
    return this.all.length;
  }

  /** A shutdown began: answers not yet started say `Connection: close`, so that no client sends another request on a connection about to close. */
  closeConnectionsWhenAnswered(): void {
    for (const r of this.all) if (r.res && !r.res.headersSent) r.res.shouldKeepAlive = false;
  }

  list(now = Date.now()): (Omit<ActiveRequest, 'abort' | 'slot' | 'res'> & { ageMs: number })[] {
    return this.all
      .map(({ abort: _a, slot: _s, res: _r, ...r }) => ({ ...r, ageMs: now - r.startedAt }))
      .sort((a, b) => b.ageMs - a.ageMs);
  }

  /** Aborts requests older than `olderThanMs`; returns their ids. */
  kill(olderThanMs: number, reason: () => Error, now = Date.now()): string[] {
    const ids: string[] = [];
    // (a copy: an abort can end a request, and so remove it, before this loop moves on)
    for (const r of [...this.all]) {
      if (now - r.startedAt >= olderThanMs) {
        r.abort(reason());
        ids.push(r.id);
      }
    }
    return ids;
  }
}
