/** What the table needs to know of a session. */
export interface TenantSession {
  principal: { tenant: string };
  /** Last request time (ms); the least recently used session goes first. */
  lastSeen: number;
}

export interface SessionCaps {
  /** Sessions one tenant keeps open at most; beyond, that tenant's own oldest session is closed. */
  perTenant: number;
  /** Sessions kept at most in all; beyond, the oldest session of the tenant holding the most is closed. */
  total: number;
}

/**
 * The open MCP sessions, capped per tenant first and in total second. A tenant opening sessions
 * in a loop (every `initialize` is a new session) only ever closes its own: a single global LRU
 * let one key evict every other tenant's sessions, the local user's included.
 */
export class SessionTable<S extends TenantSession> {
  private readonly byId = new Map<string, S>();
  private readonly perTenant = new Map<string, number>();

  constructor(private readonly caps: SessionCaps) {}

  get size(): number {
    return this.byId.size;
  }

  get(id: string): S | undefined {
    return this.byId.get(id);
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }

  entries(): IterableIterator<[string, S]> {
    return this.byId.entries();
  }

  /** Sessions of one tenant now open. */
  count(tenant: string): number {
    return this.perTenant.get(tenant) ?? 0;
  }

  /**
   * Adds a session and returns those evicted to stay within the caps (already out of the table;
   * the caller closes them). The session just added is never the one evicted.
   */
  add(id: string, s: S): S[] {
    this.delete(id);
    this.byId.set(id, s);
    this.bump(s.principal.tenant, 1);
    const evicted: S[] = [];
    const tenant = s.principal.tenant;
    while (this.count(tenant) > this.caps.perTenant) evicted.push(this.evict(id, (t) => t === tenant));
    while (this.byId.size > this.caps.total) evicted.push(this.evict(id, this.largestTenantOtherThan(id)));
    return evicted;
  }

  /** Removes a session; true when it was there. */
  delete(id: string): boolean {
    const s = this.byId.get(id);
    if (!s) return false;
    this.byId.delete(id);
    this.bump(s.principal.tenant, -1);
    return true;
  }

  private bump(tenant: string, by: number): void {
    const n = (this.perTenant.get(tenant) ?? 0) + by;
    if (n > 0) this.perTenant.set(tenant, n);
    else this.perTenant.delete(tenant);
  }

  /** The least recently used session of a tenant `which` accepts, other than `keep`. */
  private evict(keep: string, which: (tenant: string) => boolean): S {
    let victim: [string, S] | undefined;
    for (const e of this.byId) {
      if (e[0] !== keep && which(e[1].principal.tenant) && (!victim || e[1].lastSeen < victim[1].lastSeen)) victim = e;
    }
    // unreachable while the caps are >= 1: a tenant over its cap holds a session other than `keep`
    if (!victim) throw new Error('no session to evict');
    this.delete(victim[0]);
    return victim[1];
  }

  /** A test for the tenant holding the most sessions (not counting `keep`). */
  private largestTenantOtherThan(keep: string): (tenant: string) => boolean {
    const own = this.byId.get(keep)?.principal.tenant;
    let best: string | undefined;
    let most = 0;
    for (const [tenant, n] of this.perTenant) {
      const count = tenant === own ? n - 1 : n;
      if (count > most) [best, most] = [tenant, count];
    }
    return (t) => t === best;
  }
}
