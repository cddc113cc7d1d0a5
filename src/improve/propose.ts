import type { ImproveConfig } from '../config/sections/improve.js';
import type { ConfigChange, Opportunity, RouteConfig, RoutingConfig } from './types.js';

type Limits = Pick<ImproveConfig, 'timeout_raise_factor' | 'max_timeout_ms' | 'max_retries'>;

/** The gateway's default per-route timeout when a route sets none (PRODUCT: 60 s). */
export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_RETRIES = 2;

export function findRoute(config: RoutingConfig, route: string): RouteConfig | undefined {
  return config.routes.find((r) => r.pattern === route);
}

/**
 * Turns opportunities into concrete changes by fixed rules:
 * - timeouts keep firing: raise `timeout_ms` by the configured factor (capped);
 * - errors: put the first fallback provider in front when there is one, else allow one more retry;
 * - repeated requests miss the cache: enable caching for the route;
 * - latency degradation: prefer the fallback when there is one (nothing safe otherwise).
 * One change per route and field; a route at its cap gets none.
 */
export function ruleProposal(config: RoutingConfig, opportunities: readonly Opportunity[], limits: Limits): ConfigChange[] {
  const changes: ConfigChange[] = [];
  const taken = new Set<string>();
  const add = (c: ConfigChange): void => {
    const key = `${c.route}\u0000${c.field}`;
    if (taken.has(key) || JSON.stringify(c.from) === JSON.stringify(c.to)) return;
    taken.add(key);
    changes.push(c);
  };
  for (const o of opportunities) {
    const r = findRoute(config, o.route);
    if (!r) continue;
    if (o.kind === 'timeouts') {
      const from = r.timeout_ms ?? DEFAULT_TIMEOUT_MS;
      const to = Math.min(limits.max_timeout_ms, Math.ceil((from * limits.timeout_raise_factor) / 1000) * 1000);
      if (to > from) add({ route: o.route, field: 'timeout_ms', from: r.timeout_ms ?? null, to, reason: `${o.detail}: raise the timeout from ${from} ms to ${to} ms` });
    } else if (o.kind === 'errors' || o.kind === 'latency_degradation') {
      const fb = Array.isArray(r.fallbacks) ? r.fallbacks : [];
      const first = fb[0];
      if (typeof first === 'string' && typeof r.provider === 'string' && first !== r.provider) {
        // Move the failing provider behind its first fallback (the fallback becomes the primary).
        add({ route: o.route, field: 'provider', from: r.provider, to: first, reason: `${o.detail}: put fallback ${first} in front of ${r.provider}` });
        add({ route: o.route, field: 'fallbacks', from: fb, to: [...fb.slice(1), r.provider], reason: `${r.provider} becomes the last fallback` });
      } else if (o.kind === 'errors') {
        const from = r.retries ?? DEFAULT_RETRIES;
        if (from < limits.max_retries) add({ route: o.route, field: 'retries', from: r.retries ?? null, to: from + 1, reason: `${o.detail}: allow one more retry (${from} -> ${from + 1})` });
      }
    } else if (o.kind === 'cache_misses') {
      if (r.cache !== true) add({ route: o.route, field: 'cache', from: r.cache ?? null, to: true, reason: `${o.detail}: enable caching for this route` });
    }
  }
  return changes;
}
