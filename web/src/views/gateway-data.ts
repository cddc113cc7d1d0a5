import type { AlignedData } from 'uplot';
import { arr, isObj, num, str } from '../lib/fields';
import type { GwRequest } from '../lib/model';
import type { Ring } from '../lib/ring';

/** Requests per second over the last `windowMs`, from the live stream. */
export function requestsPerSecond(reqs: Ring<GwRequest>, now: number, windowMs = 10_000): number {
  let n = 0;
  for (let i = reqs.length - 1; i >= 0; i--) {
    const r = reqs.at(i);
    if (!r || r.ts < now - windowMs) break;
    n++;
  }
  return n / (windowMs / 1000);
}

/** Today's cost: the analytics endpoint when it says, else what the page saw live today. */
export function costToday(project: unknown, reqs: Ring<GwRequest>, now: number): { value: number | undefined; source: string } {
  const v = num(project, 'cost', 'totals.cost.total', 'today.cost_usd', 'today.cost', 'cost_today', 'costToday', 'cost_today_usd', 'daily.cost', 'totals.today.cost_usd');
  if (v !== undefined) return { value: v, source: 'analytics' };
  const midnight = new Date(now).setHours(0, 0, 0, 0);
  let sum = 0;
  let seen = false;
  for (let i = 0; i < reqs.length; i++) {
    const r = reqs.at(i);
    if (r && r.ts >= midnight && r.cost !== undefined) {
      sum += r.cost;
      seen = true;
    }
  }
  return { value: seen ? sum : project ? 0 : undefined, source: seen ? 'seen live since the page opened' : 'no requests yet' };
}

function quantile(sorted: number[], q: number): number | null {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? null;
}

export interface Series {
  requests: AlignedData;
  cost: AlignedData;
  tokens: AlignedData;
  latency: AlignedData;
  cacheRate: AlignedData;
}

/**
 * Time buckets of the live request stream (`bucketS` wide, the last `buckets` of them):
 * request count, cost, tokens in/out, latency p50/p99, cache hit rate.
 */
export function bucketize(reqs: Ring<GwRequest>, now: number, bucketS = 5, buckets = 72): Series {
  const end = Math.floor(now / 1000 / bucketS) * bucketS + bucketS;
  const start = end - bucketS * buckets;
  const xs: number[] = [];
  const count = new Array<number>(buckets).fill(0);
  const cost = new Array<number>(buckets).fill(0);
  const tin = new Array<number>(buckets).fill(0);
  const tout = new Array<number>(buckets).fill(0);
  const hits = new Array<number>(buckets).fill(0);
  const cacheable = new Array<number>(buckets).fill(0);
  const lat: number[][] = Array.from({ length: buckets }, () => []);
  for (let b = 0; b < buckets; b++) xs.push(start + b * bucketS);
  for (let i = 0; i < reqs.length; i++) {
    const r = reqs.at(i);
    if (!r) continue;
    const b = Math.floor((r.ts / 1000 - start) / bucketS);
    if (b < 0 || b >= buckets) continue;
    count[b] = (count[b] ?? 0) + 1;
    cost[b] = (cost[b] ?? 0) + (r.cost ?? 0);
    // tokens a provider handled: a cache hit's are the original answer's (as /metrics counts them)
    if (!r.cacheHit) {
      tin[b] = (tin[b] ?? 0) + (r.inTok ?? 0);
      tout[b] = (tout[b] ?? 0) + (r.outTok ?? 0);
    }
    if (r.cacheHit) hits[b] = (hits[b] ?? 0) + 1;
    if (r.cacheable ?? true) cacheable[b] = (cacheable[b] ?? 0) + 1;
    if (r.latencyMs !== undefined) lat[b]?.push(r.latencyMs);
  }
  const p50: (number | null)[] = [];
  const p99: (number | null)[] = [];
  const rate: (number | null)[] = [];
  for (let b = 0; b < buckets; b++) {
    const l = (lat[b] ?? []).sort((x, y) => x - y);
    p50.push(quantile(l, 0.5));
    p99.push(quantile(l, 0.99));
    // of the requests the cache could answer, as the analytics endpoints and /metrics count it
    const c = cacheable[b] ?? 0;
    rate.push(c ? ((hits[b] ?? 0) / c) * 100 : null);
  }
  return {
    requests: [xs, count.map((c) => c / bucketS)],
    cost: [xs, cost],
    tokens: [xs, tin, tout],
    latency: [xs, p50, p99],
    cacheRate: [xs, rate],
  };
}

export interface ModelRow {
  model: string;
  requests: number;
  inTok: number;
  outTok: number;
  cost: number;
  avgLatency?: number;
  cacheHits?: number;
  errors?: number;
}

/** Per-model rows: from `/api/project/stats` when it breaks down by model, else the live stream. */
export function modelRows(project: unknown, reqs: Ring<GwRequest>): { rows: ModelRow[]; source: string } {
  const fromApi = arr(project, 'byModel', 'models', 'by_model', 'per_model', 'stats.models');
  let list: unknown[] | undefined = fromApi;
  if (!list) {
    const m = isObj(project) ? (project.models ?? project.by_model) : undefined;
    if (isObj(m)) list = Object.entries(m).map(([model, v]) => ({ model, ...(isObj(v) ? v : {}) }));
  }
  if (list && list.length) {
    return {
      source: 'analytics',
      rows: list.map((r) => ({
        model: str(r, 'model', 'key', 'name') ?? '?',
        requests: num(r, 'requests', 'count', 'request_count', 'total_requests') ?? 0,
        inTok: num(r, 'inputTokens', 'input_tokens', 'tokens_in') ?? 0,
        outTok: num(r, 'outputTokens', 'output_tokens', 'tokens_out') ?? 0,
        cost: num(r, 'cost_usd', 'cost', 'total_cost') ?? 0,
        ...opt('avgLatency', num(r, 'avg_latency_ms', 'avgLatencyMs', 'latency_avg_ms', 'avg_latency')),
        ...opt('cacheHits', num(r, 'cache_hits', 'cacheHits')),
        ...opt('errors', num(r, 'errors', 'error_count')),
      })),
    };
  }
  const by = new Map<string, ModelRow & { latSum: number; latN: number }>();
  for (let i = 0; i < reqs.length; i++) {
    const r = reqs.at(i);
    if (!r) continue;
    const row = by.get(r.model) ?? { model: r.model, requests: 0, inTok: 0, outTok: 0, cost: 0, cacheHits: 0, latSum: 0, latN: 0 };
    row.requests++;
    row.inTok += r.inTok ?? 0;
    row.outTok += r.outTok ?? 0;
    row.cost += r.cost ?? 0;
    if (r.cacheHit) row.cacheHits = (row.cacheHits ?? 0) + 1;
    if (r.latencyMs !== undefined) {
      row.latSum += r.latencyMs;
      row.latN++;
    }
    by.set(r.model, row);
  }
  return {
    source: 'seen live since the page opened',
    rows: [...by.values()].map(({ latSum, latN, ...r }) => ({ ...r, ...(latN ? { avgLatency: latSum / latN } : {}) })).sort((a, b) => b.requests - a.requests),
  };
}

function opt<K extends string>(k: K, v: number | undefined): { [P in K]?: number } {
  return (v === undefined ? {} : { [k]: v }) as { [P in K]?: number };
}

/** Local midnight, for "today" windows. */
export function midnight(now = Date.now()): number {
  return new Date(now).setHours(0, 0, 0, 0);
}

export interface History {
  requests: AlignedData;
  latency: AlignedData;
  cacheRate: AlignedData;
  bucketMs: number;
}

/** The analytics history (`GET /api/machine/stats` chartData) as chart series; undefined without it. */
export function historySeries(machine: unknown): History | undefined {
  const req = arr(machine, 'chartData.requestsOverTime');
  if (!req || req.length === 0) return undefined;
  const cost = new Map((arr(machine, 'chartData.costOverTime') ?? []).map((p) => [num(p, 't'), num(p, 'cost') ?? 0]));
  const lat = new Map((arr(machine, 'chartData.latencyOverTime') ?? []).map((p) => [num(p, 't'), num(p, 'avgLatencyMs')]));
  const hit = new Map((arr(machine, 'chartData.cacheHitRateOverTime') ?? []).map((p) => [num(p, 't'), num(p, 'hitRate')]));
  const xs: number[] = [];
  const count: number[] = [];
  const costs: number[] = [];
  const latency: (number | null)[] = [];
  const rate: (number | null)[] = [];
  for (const p of req) {
    const t = num(p, 't');
    if (t === undefined) continue;
    const n = num(p, 'requests') ?? 0;
    xs.push(t / 1000);
    count.push(n);
    costs.push(cost.get(t) ?? 0);
    latency.push(n ? (lat.get(t) ?? null) : null);
    const h = hit.get(t);
    rate.push(n && h !== undefined ? h * 100 : null);
  }
  return { requests: [xs, count, costs], latency: [xs, latency], cacheRate: [xs, rate], bucketMs: num(machine, 'window.bucketMs') ?? 0 };
}
