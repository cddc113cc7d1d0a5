import type { GatewayModule } from '../gateway/module.js';
import type { Store } from '../store/store.js';
import { routeStatsOf } from './synthetic.js';
import type { RequestRecord } from './synthetic.js';
import type { ImproveGateway, RoutingConfig } from './types.js';

/** The gateway parts read here (structurally, so only these members are depended on). */
interface RoutingParts {
  routing?: { config: unknown; apply(raw: unknown, opts?: { persist?: boolean }): { version: number } };
}

/** Rows read at most per analysed window (a window with more is judged on its latest rows). */
const MAX_ROWS = 200_000;

/**
 * Per-route telemetry from the gateway's analytics table (`gateway_requests`): a timeout is a 504 or
 * an `upstream_timeout`; an error is a 5xx or 429 (client disconnects are not the route's fault).
 */
export async function storeRouteStats(store: Store, w: { since: number; until: number }) {
  const rows = await store.db
    .selectFrom('gateway_requests')
    .select(['ts', 'route', 'latency_ms', 'status', 'error_type', 'cache_hit', 'retries', 'fallback_from', 'cost_total'])
    .where('ts', '>=', w.since)
    .where('ts', '<', w.until)
    .orderBy('ts', 'desc')
    .limit(MAX_ROWS)
    .execute();
  const records: RequestRecord[] = rows.map((r) => {
    const status = Number(r.status);
    const timeout = status === 504 || r.error_type === 'upstream_timeout';
    return {
      ts: Number(r.ts),
      route: r.route,
      latency_ms: Number(r.latency_ms),
      status: timeout ? 'timeout' : status >= 500 || status === 429 ? 'error' : 'ok',
      retries: Number(r.retries),
      fallback_used: r.fallback_from !== null,
      cache_hit: Number(r.cache_hit) === 1,
      cost_usd: Number(r.cost_total),
    };
  });
  return routeStatsOf(records);
}

/**
 * The gateway's telemetry and routing config as this module needs them, or what is missing (the
 * cycle then refuses to start with that message). An applied config is persisted to the user's
 * model-routing.json so it survives a restart.
 */
export function improveGatewayOf(gateway: GatewayModule, store: Store): ImproveGateway | { missing: string[] } {
  const routing = (gateway as { gateway?: RoutingParts }).gateway?.routing;
  if (!routing || typeof routing.apply !== 'function') return { missing: ['gateway.routing (the gateway is disabled or not built)'] };
  return {
    routeStats: (w) => storeRouteStats(store, w),
    getRoutingConfig: () => structuredClone(routing.config) as RoutingConfig,
    async applyRoutingConfig(config) {
      routing.apply(config, { persist: true });
    },
  };
}
