import type { ImproveConfig } from '../config/sections/improve.js';
import type { ConfigChange, Opportunity, RouteConfig, RoutingConfig } from './types.js';

type Limits = Pick<ImproveConfig, 'timeout_raise_factor' | 'max_timeout_ms' | 'max_retries'>;

/** The routing file's `defaults` (what a route without its own value gets), with the gateway's fallbacks. */
function defaults(config: RoutingConfig): { timeout_ms: number; retries: number } {
  const d = (config.defaults ?? {}) as { timeout_ms?: number; retries?: number };
  return { timeout_ms: d.timeout_ms ?? 300_000, retries: d.retries ?? 2 };
}

/**
 * A route by the key analytics records for it (its `pattern`, even when the route has a `name`),
 * or by its `name` (what a user or an LLM calls it). The pattern wins when both could match.
 */
export function findRoute(config: RoutingConfig, route: string): RouteConfig | undefined {
  return config.routes.find((r) => r.pattern === route) ?? config.routes.find((r) => r.name === route);
}

/**
 * Turns opportunities into concrete changes by fixed rules:
 * - timeouts keep firing: raise `timeout_ms` by the configured factor (capped);
 * - errors: allow one more retry (capped);
 * - repeated requests miss the cache: enable caching where the route turned it off;
 * - latency degradation: reported only (no change is safe by rule alone).
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
      const from = r.timeout_ms ?? defaults(config).timeout_ms;
      const to = Math.min(limits.max_timeout_ms, Math.ceil((from * limits.timeout_raise_factor) / 1000) * 1000);
      if (to > from) add({ route: o.route, field: 'timeout_ms', from: r.timeout_ms ?? null, to, reason: `${o.detail}: raise the timeout from ${from} ms to ${to} ms` });
    } else if (o.kind === 'errors') {
      const from = r.retries ?? defaults(config).retries;
      if (from < limits.max_retries) add({ route: o.route, field: 'retries', from: r.retries ?? null, to: from + 1, reason: `${o.detail}: allow one more retry (${from} -> ${from + 1})` });
    } else if (o.kind === 'latency_degradation') {
      // A slower primary with fallbacks: nothing safe to change automatically but the order of the
      // fallbacks is the user's choice; report the opportunity (an LLM proposal may still act).
    } else if (o.kind === 'cache_misses') {
      // the gateway caches by default: only an explicit `cache: false` can be switched on
      if (r.cache === false) add({ route: o.route, field: 'cache', from: false, to: true, reason: `${o.detail}: enable caching for this route` });
    }
  }
  return changes;
}
