import { sql } from 'kysely';
import type { CompiledQuery } from 'kysely';
import { SideReader, sideReadable } from '../../store/sqlite-side-thread.js';
import type { Store } from '../../store/store.js';
import type { QueryProfiler } from './profiler.js';

/**
 * Requests that count as errors: a failed answer (5xx, 429) or a gateway error, but not a client
 * that went away (`client_closed`, 499: a Claude Code user pressing Esc is not an error rate).
 */
/** Requests the cache could answer: those with a cache key (not count_tokens, a bypass, a route with `cache: false`). */
const CACHEABLE = sql<number>`count(cache_key)`;
/** A cache miss the gateway answered successfully (the only kind it stores in the cache). */
const ANSWERED_MISS = sql`cache_hit = 0 and status >= 200 and status < 300 and error_type is null`;
const ERRORS = sql<number>`sum(case when status >= 500 or status = 429 or (error_type is not null and error_type <> 'client_closed') then 1 else 0 end)`;

/** Per-route telemetry over a window (the improve module's input). */
export interface RouteStats {
  route: string;
  requests: number;
  errors: number;
  timeouts: number;
  retries: number;
  fallbacks_used: number;
  cache_hits: number;
  repeated_misses: number;
  latency_p50_ms: number;
  latency_p95_ms: number;
  cost_usd: number;
}

export interface StatsFilter {
  since?: number;
  until?: number;
  /**
   * Rows tagged with this project (`x-cco-project`) or from a session whose Claude Code hooks
   * reported it as their working directory (the client did not name it).
   */
  project?: string;
  sessionId?: string;
}

const n = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
/** A sum of dollars without the float noise of adding many (0.0021650000000000003): ten decimals, far below a token's price. */
const usd = (v: unknown): number => Math.round(n(v) * 1e10) / 1e10;

/** Latencies read at most for a window's percentiles (an even sample past it). */
const LATENCY_SAMPLE = 200_000;

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

/** Read side of the analytics table: totals, breakdowns, time series, per-route stats. */
export class AnalyticsQueries {
  /**
   * SQLite file: the stats reads (totals, breakdowns, series) run on a read-only connection in a
   * thread of its own. On the store's connection they held the event loop, and every /v1 request,
   * for a third of a second per dashboard poll at 65,000 rows. PostgreSQL is asynchronous already;
   * an in-memory database has no second connection.
   */
  private readonly reader: SideReader | undefined;
  private readonly latencySample: number;

  constructor(
    private readonly store: Store,
    private readonly profiler: QueryProfiler,
    opts: { sideThread?: boolean; latencySample?: number } = {},
  ) {
    this.latencySample = opts.latencySample ?? LATENCY_SAMPLE;
    this.reader = opts.sideThread !== false && store.dialect === 'sqlite' && sideReadable(store.location) ? new SideReader(store.location) : undefined;
  }

  /** Ends the side thread, if one runs (it also ends itself after a minute without reads). */
  async close(): Promise<void> {
    await this.reader?.close();
  }

  /** The rows of a stats read: on the side thread when there is one, else on the store's connection. */
  private rows<O>(q: { compile(): CompiledQuery<O>; execute(): Promise<O[]> }): Promise<O[]> {
    return this.reader ? this.reader.all<O>(q.compile()) : q.execute();
  }

  private base(f: StatsFilter) {
    let q = this.store.db.selectFrom('gateway_requests');
    if (f.since !== undefined) q = q.where('ts', '>=', f.since);
    if (f.until !== undefined) q = q.where('ts', '<', f.until);
    if (f.project !== undefined) {
      const p = f.project;
      // matched in SQL (index hook_events_cwd): a list of the sessions read first was capped at
      // 10,000, and past it a project's requests silently stopped counting
      const sessions = this.store.db.selectFrom('hook_events').select('session_id').distinct().where('cwd', '=', p).where('session_id', 'is not', null);
      q = q.where((eb) => eb.or([eb('project', '=', p), eb('session_id', 'in', sessions)]));
    }
    if (f.sessionId !== undefined) q = q.where('session_id', '=', f.sessionId);
    return q;
  }

  /** Totals over the filter: requests, errors, tokens in four buckets, cost in four buckets, savings. */
  async totals(f: StatsFilter) {
    const r = await this.profiler.time('totals', () =>
      this.rows(
        this.base(f)
          .select([
            sql<number>`count(*)`.as('requests'),
            ERRORS.as('errors'),
            sql<number>`sum(cache_hit)`.as('cache_hits'),
            CACHEABLE.as('cacheable'),
            sql<number>`sum(case when cache_hit = 0 then input_tokens else 0 end)`.as('input_tokens'),
            sql<number>`sum(case when cache_hit = 0 then output_tokens else 0 end)`.as('output_tokens'),
            sql<number>`sum(case when cache_hit = 0 then cache_read_tokens else 0 end)`.as('cache_read_tokens'),
            sql<number>`sum(case when cache_hit = 0 then cache_write_tokens else 0 end)`.as('cache_write_tokens'),
            sql<number>`sum(case when cache_hit = 1 then input_tokens + output_tokens + cache_read_tokens + cache_write_tokens else 0 end)`.as('served_tokens'),
            sql<number>`sum(cost_input)`.as('cost_input'),
            sql<number>`sum(cost_output)`.as('cost_output'),
            sql<number>`sum(cost_cache_write)`.as('cost_cache_write'),
            sql<number>`sum(cost_cache_read)`.as('cost_cache_read'),
            sql<number>`sum(cost_total)`.as('cost_total'),
            sql<number>`sum(cost_saved)`.as('cost_saved'),
            sql<number>`avg(latency_ms)`.as('avg_latency_ms'),
            sql<number>`max(ts)`.as('last_ts'),
          ]),
      ).then((rs) => rs[0]),
    );
    const requests = n(r?.requests);
    const hits = n(r?.cache_hits);
    const cacheable = n(r?.cacheable);
    return {
      requests,
      errors: n(r?.errors),
      cacheHits: hits,
      // of the requests the cache could answer (as /api/cache/stats and /metrics count them)
      cacheHitRate: cacheable ? Math.round((hits / cacheable) * 10_000) / 10_000 : 0,
      // tokens a provider handled (as gateway_tokens_total); what the cache served besides
      tokens: { input: n(r?.input_tokens), output: n(r?.output_tokens), cacheRead: n(r?.cache_read_tokens), cacheWrite: n(r?.cache_write_tokens) },
      tokensServedFromCache: n(r?.served_tokens),
      cost: { input: usd(r?.cost_input), output: usd(r?.cost_output), cacheWrite: usd(r?.cost_cache_write), cacheRead: usd(r?.cost_cache_read), total: usd(r?.cost_total) },
      costSaved: usd(r?.cost_saved),
      avgLatencyMs: Math.round(n(r?.avg_latency_ms)),
      lastRequestAt: r?.last_ts === null || r?.last_ts === undefined ? null : n(r.last_ts),
    };
  }

  /** What the archive holds (`gateway_requests_archive`): requests, cost and savings, for all-time figures. */
  async archivedTotals(): Promise<{ requests: number; cost: number; costSaved: number }> {
    const r = await this.profiler.time('archivedTotals', () =>
      this.rows(this.store.db.selectFrom('gateway_requests_archive').select([sql<number>`count(*)`.as('requests'), sql<number>`sum(cost_total)`.as('cost'), sql<number>`sum(cost_saved)`.as('saved')])).then((rs) => rs[0]),
    );
    return { requests: n(r?.requests), cost: usd(r?.cost), costSaved: usd(r?.saved) };
  }

  /** Requests, tokens, cost, errors and mean latency grouped by a column (model, session, agent, project, provider). */
  async breakdown(f: StatsFilter, by: 'model' | 'upstream_model' | 'session_id' | 'agent_id' | 'project' | 'provider', limit = 20) {
    const rows = await this.profiler.time(`breakdown:${by}`, () =>
      this.rows(
        this.base(f)
          .select([
            sql<string | null>`${sql.ref(by)}`.as('key'),
            sql<number>`count(*)`.as('requests'),
            sql<number>`sum(case when cache_hit = 0 then input_tokens + cache_read_tokens + cache_write_tokens else 0 end)`.as('input_tokens'),
            sql<number>`sum(case when cache_hit = 0 then output_tokens else 0 end)`.as('output_tokens'),
            sql<number>`sum(cost_total)`.as('cost'),
            sql<number>`sum(cache_hit)`.as('cache_hits'),
            ERRORS.as('errors'),
            sql<number>`avg(latency_ms)`.as('avg_latency_ms'),
          ])
          .groupBy(by)
          .orderBy(sql`sum(cost_total)`, 'desc')
          .orderBy(sql`count(*)`, 'desc')
          .limit(limit),
      ),
    );
    return rows.map((r) => ({
      key: r.key,
      requests: n(r.requests),
      inputTokens: n(r.input_tokens),
      outputTokens: n(r.output_tokens),
      cost: usd(r.cost),
      cacheHits: n(r.cache_hits),
      errors: n(r.errors),
      avgLatencyMs: Math.round(n(r.avg_latency_ms)),
    }));
  }

  /**
   * Time series in buckets of `bucketMs`: requests, cost, tokens, errors, cache hits, mean latency.
   * Buckets start on the reader's clock (`offsetMs`: local time minus UTC), so that a day bucket
   * runs from their midnight and an hour bucket from their full hour (India is UTC+5:30).
   */
  async series(f: StatsFilter & { since: number; until: number }, bucketMs: number, offsetMs = 0) {
    const b = Math.max(1, Math.floor(bucketMs));
    // ts + offset stays positive (epoch ms against at most 14 hours): % never sees a negative number
    const start = (t: number) => t - ((((t + offsetMs) % b) + b) % b);
    const bucket = sql<number>`(ts - ((ts + ${sql.lit(Math.trunc(offsetMs))}) % ${sql.lit(b)}))`;
    const rows = await this.profiler.time('series', () =>
      this.rows(
        this.base(f)
          .select([
            bucket.as('t'),
            sql<number>`count(*)`.as('requests'),
            sql<number>`sum(cost_total)`.as('cost'),
            sql<number>`sum(case when cache_hit = 0 then input_tokens + output_tokens + cache_read_tokens + cache_write_tokens else 0 end)`.as('tokens'),
            ERRORS.as('errors'),
            sql<number>`sum(cache_hit)`.as('cache_hits'),
            CACHEABLE.as('cacheable'),
            sql<number>`avg(latency_ms)`.as('latency'),
          ])
          .groupBy(bucket)
          .orderBy(bucket),
      ),
    );
    const byT = new Map(rows.map((r) => [n(r.t), r]));
    const out = [];
    // Empty buckets are present (zeros) so a chart's time axis is continuous.
    for (let t = start(f.since); t < f.until; t += b) {
      const r = byT.get(t);
      const requests = n(r?.requests);
      out.push({ t, requests, cost: usd(r?.cost), tokens: n(r?.tokens), errors: n(r?.errors), cacheHits: n(r?.cache_hits), cacheHitRate: n(r?.cacheable) ? Math.round((n(r?.cache_hits) / n(r?.cacheable)) * 10_000) / 10_000 : 0, avgLatencyMs: Math.round(n(r?.latency)) });
    }
    return out;
  }

  /** Per-route stats over a window, with latency percentiles. */
  async routeStats(w: { since: number; until: number }): Promise<RouteStats[]> {
    const f = { since: w.since, until: w.until };
    const rows = await this.profiler.time('routeStats', () =>
      this.base(f)
        .select([
          'route',
          sql<number>`count(*)`.as('requests'),
          ERRORS.as('errors'),
          sql<number>`sum(case when error_type = 'upstream_timeout' or status = 504 then 1 else 0 end)`.as('timeouts'),
          sql<number>`sum(retries)`.as('retries'),
          sql<number>`sum(case when fallback_from is not null then 1 else 0 end)`.as('fallbacks'),
          sql<number>`sum(cache_hit)`.as('cache_hits'),
          // Only answered requests count: a failed one is never cached, so its repeat is no cache miss.
          sql<number>`count(case when ${ANSWERED_MISS} then cache_key end) - count(distinct case when ${ANSWERED_MISS} then cache_key end)`.as('repeated_misses'),
          sql<number>`sum(cost_total)`.as('cost'),
          sql<number>`sum(case when cache_hit = 0 then 1 else 0 end)`.as('misses'),
        ])
        .groupBy('route')
        .execute(),
    );
    // The latencies of the window's misses, or an even sample of them (every k-th row by id) past
    // LATENCY_SAMPLE in all: a cut of the sorted list had kept the fastest and dropped the slow
    // tail, so a busy window's p95 came out low (and an improvement cycle judged against it wrongly).
    // Each route is sampled on its own (a quiet route beside a busy one keeps all its rows: a
    // step taken from the window's total had left it none, and its percentiles at 0).
    const share = Math.max(1, Math.floor(this.latencySample / Math.max(1, rows.length)));
    const steps = rows.map((r) => ({ route: r.route, every: Math.max(1, Math.ceil(n(r.misses) / share)) }));
    const lat = await this.profiler.time('routeLatencies', () => {
      const q = this.base(f).select(['route', 'latency_ms']).where('cache_hit', '=', 0);
      const sampled = steps.filter((x) => x.every > 1);
      if (!sampled.length) return q.execute();
      return q
        .where((eb) =>
          eb.or([
            eb('route', 'not in', sampled.map((x) => x.route)),
            ...sampled.map((x) => eb.and([eb('route', '=', x.route), eb(sql<number>`id % ${x.every}`, '=', 0)])),
          ]),
        )
        .execute();
    });
    const byRoute = new Map<string, number[]>();
    for (const l of lat) {
      const a = byRoute.get(l.route) ?? [];
      a.push(n(l.latency_ms));
      byRoute.set(l.route, a);
    }
    for (const a of byRoute.values()) a.sort((x, y) => x - y);
    return rows.map((r) => {
      const ls = byRoute.get(r.route) ?? [];
      return {
        route: r.route,
        requests: n(r.requests),
        errors: n(r.errors),
        timeouts: n(r.timeouts),
        retries: n(r.retries),
        fallbacks_used: n(r.fallbacks),
        cache_hits: n(r.cache_hits),
        repeated_misses: n(r.repeated_misses),
        latency_p50_ms: percentile(ls, 50),
        latency_p95_ms: percentile(ls, 95),
        cost_usd: n(r.cost),
      };
    });
  }
}
