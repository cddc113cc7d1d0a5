import type { ApplyMeta, ImproveGateway, RouteStats, RoutingConfig } from './types.js';

/** One request as analytics records it (the fields the cycle reads). */
export interface RequestRecord {
  ts: number;
  route: string;
  latency_ms: number;
  status: 'ok' | 'error' | 'timeout';
  retries?: number;
  fallback_used?: boolean;
  cache_hit?: boolean;
  /** Same cache key as an earlier request (a repeat). */
  repeat?: boolean;
  cost_usd?: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i] ?? 0;
}

/**
 * Per-route stats of request records, the way the gateway's analytics should compute them
 * (nearest-rank percentiles; a timeout counts as an error too). Exported so the gateway can reuse it.
 */
export function routeStatsOf(records: readonly RequestRecord[]): RouteStats[] {
  const by = new Map<string, RequestRecord[]>();
  for (const r of records) by.set(r.route, [...(by.get(r.route) ?? []), r]);
  return [...by.entries()].map(([route, rs]) => {
    const lat = rs.map((r) => r.latency_ms).sort((a, b) => a - b);
    return {
      route,
      requests: rs.length,
      errors: rs.filter((r) => r.status !== 'ok').length,
      timeouts: rs.filter((r) => r.status === 'timeout').length,
      retries: rs.reduce((n, r) => n + (r.retries ?? 0), 0),
      fallbacks_used: rs.filter((r) => r.fallback_used).length,
      cache_hits: rs.filter((r) => r.cache_hit).length,
      // a failed request is never cached, so its repeat is no cache miss
      repeated_misses: rs.filter((r) => r.repeat && !r.cache_hit && r.status === 'ok').length,
      latency_p50_ms: percentile(lat, 0.5),
      latency_p95_ms: percentile(lat, 0.95),
      cost_usd: rs.reduce((n, r) => n + (r.cost_usd ?? 0), 0),
    };
  });
}

/**
 * A telemetry source over records held in memory, with a routing config that applies in place:
 * the synthetic analytics of the improvement-cycle tests (and `cco proxy` without a database).
 */
export class InMemoryTelemetry implements ImproveGateway {
  readonly records: RequestRecord[] = [];
  readonly applied: { config: RoutingConfig; by: string; reason: string }[] = [];
  constructor(public config: RoutingConfig) {}

  add(...rs: RequestRecord[]): void {
    this.records.push(...rs);
  }
  async routeStats(w: { since: number; until: number }): Promise<RouteStats[]> {
    return routeStatsOf(this.records.filter((r) => r.ts >= w.since && r.ts < w.until));
  }
  getRoutingConfig(): RoutingConfig {
    return structuredClone(this.config);
  }
  async applyRoutingConfig(config: RoutingConfig, meta: ApplyMeta): Promise<void> {
    this.config = structuredClone(config);
    this.applied.push({ config: structuredClone(config), ...meta });
  }
}
