import type { ConfigChange, MonitoringCheck, RouteStats, TunableField } from './types.js';

type Metric = MonitoringCheck['metric'];

/**
 * What to watch after a change of each field. A raised timeout is expected to lengthen p95 latency
 * (requests that used to be cut now finish), so it is judged on timeouts and errors only.
 */
const WATCHED: Record<TunableField, Metric[]> = {
  timeout_ms: ['timeout_rate', 'error_rate'],
  retries: ['error_rate', 'latency_p95_ms'],
  cache: ['error_rate', 'latency_p95_ms'],
  fallbacks: ['error_rate', 'latency_p95_ms'],
};

/** Below these, a relative change is noise (1 percentage point of rate, 1 ms of latency). */
const FLOOR: Record<Metric, number> = { error_rate: 0.01, timeout_rate: 0.01, latency_p95_ms: 1 };

function value(s: RouteStats, m: Metric): number {
  if (m === 'latency_p95_ms') return s.latency_p95_ms;
  if (s.requests === 0) return 0;
  return m === 'error_rate' ? s.errors / s.requests : s.timeouts / s.requests;
}

export interface Verdict {
  checks: MonitoringCheck[];
  degraded: boolean;
  /** Routes that had too few requests since the change to be judged. */
  insufficient: string[];
}

/**
 * Compares each changed route's watched metrics after the change with the analysed window.
 * Degraded when any metric got worse by more than `threshold` (relative, 0.1 = 10%).
 */
export function judge(changes: readonly ConfigChange[], before: readonly RouteStats[], after: readonly RouteStats[], threshold: number, minRequests: number): Verdict {
  const checks: MonitoringCheck[] = [];
  const insufficient: string[] = [];
  const routes = new Map<string, Set<Metric>>();
  for (const c of changes) {
    const set = routes.get(c.route) ?? new Set<Metric>();
    for (const m of WATCHED[c.field]) set.add(m);
    routes.set(c.route, set);
  }
  for (const [route, metrics] of routes) {
    const b = before.find((s) => s.route === route);
    const a = after.find((s) => s.route === route);
    if (!b || !a || a.requests < minRequests) {
      insufficient.push(route);
      continue;
    }
    for (const m of metrics) {
      const bv = value(b, m);
      const av = value(a, m);
      const change = (av - bv) / Math.max(bv, FLOOR[m]);
      checks.push({ route, metric: m, before: bv, after: av, change, degraded: change > threshold });
    }
  }
  return { checks, degraded: checks.some((c) => c.degraded), insufficient };
}
