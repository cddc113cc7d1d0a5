import type { ImproveConfig } from '../config/sections/improve.js';
import type { Opportunity, RouteStats } from './types.js';

type Thresholds = Pick<
  ImproveConfig,
  'min_requests' | 'timeout_rate_threshold' | 'error_frequency_threshold' | 'performance_degradation_threshold' | 'cache_repeat_threshold'
>;

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/**
 * Finds what is worth changing in a window's telemetry, route by route. A route with fewer than
 * `min_requests` is not judged (too little data to act on). `previous` is the window just before,
 * for the latency trend.
 */
export function findOpportunities(current: readonly RouteStats[], previous: readonly RouteStats[], t: Thresholds): Opportunity[] {
  const out: Opportunity[] = [];
  const prevByRoute = new Map(previous.map((s) => [s.route, s]));
  for (const s of current) {
    if (s.requests < t.min_requests) continue;
    const timeoutRate = s.timeouts / s.requests;
    if (s.timeouts > 0 && timeoutRate >= t.timeout_rate_threshold) {
      out.push({ route: s.route, kind: 'timeouts', metric: 'timeout_rate', value: timeoutRate, threshold: t.timeout_rate_threshold, requests: s.requests, detail: `${s.timeouts} of ${s.requests} requests timed out (${pct(timeoutRate)})` });
    }
    // Timeouts are counted as errors by most analytics; judge the rest separately.
    const otherErrors = Math.max(0, s.errors - s.timeouts);
    if (otherErrors >= t.error_frequency_threshold) {
      out.push({ route: s.route, kind: 'errors', metric: 'errors', value: otherErrors, threshold: t.error_frequency_threshold, requests: s.requests, detail: `${otherErrors} failed requests (${pct(otherErrors / s.requests)}), ${s.retries} retries, ${s.fallbacks_used} fallbacks used` });
    }
    const prev = prevByRoute.get(s.route);
    if (prev && prev.requests >= t.min_requests && prev.latency_p95_ms > 0) {
      const change = (s.latency_p95_ms - prev.latency_p95_ms) / prev.latency_p95_ms;
      if (change > t.performance_degradation_threshold) {
        out.push({ route: s.route, kind: 'latency_degradation', metric: 'latency_p95_change', value: change, threshold: t.performance_degradation_threshold, requests: s.requests, detail: `p95 latency ${Math.round(prev.latency_p95_ms)} ms -> ${Math.round(s.latency_p95_ms)} ms (+${pct(change)})` });
      }
    }
    const repeatRate = s.repeated_misses / s.requests;
    if (s.repeated_misses > 0 && repeatRate >= t.cache_repeat_threshold) {
      out.push({ route: s.route, kind: 'cache_misses', metric: 'repeated_miss_rate', value: repeatRate, threshold: t.cache_repeat_threshold, requests: s.requests, detail: `${s.repeated_misses} repeated requests missed the cache (${pct(repeatRate)}); hit rate ${pct(s.cache_hits / s.requests)}` });
    }
  }
  return out;
}
