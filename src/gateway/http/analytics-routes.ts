import { cpus, freemem, hostname, loadavg, platform, totalmem } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { z } from 'zod';
import { AppError } from '../../core/errors.js';
import { parseInput } from '../../server/validate.js';
import type { Store } from '../../store/store.js';
import type { AnalyticsQueries, StatsFilter } from '../analytics/queries.js';
import type { AnalyticsWriter } from '../analytics/writer.js';

const HOUR = 3_600_000;
/** The longest window a stats call covers (its chart stays within 72 weekly points). */
const MAX_WINDOW_MS = 366 * 24 * HOUR;

const windowQuery = z
  .object({
    hours: z.coerce.number().positive().max(24 * 366).optional(),
    since: z.coerce.number().int().min(0).max(8.64e15).optional(),
    until: z.coerce.number().int().min(0).max(8.64e15).optional(),
    project: z.string().min(1).max(4096).optional(),
    session: z.string().min(1).max(200).optional(),
    /** The reader's local time minus UTC, in minutes (`-new Date().getTimezoneOffset()`): chart buckets start at their midnight. */
    utc_offset_minutes: z.coerce.number().int().min(-12 * 60).max(14 * 60).optional(),
  })
  .strict();

/** A chart bucket that gives 24–72 points over the window. */
export function bucketFor(spanMs: number): number {
  const steps = [60_000, 5 * 60_000, 15 * 60_000, HOUR, 3 * HOUR, 6 * HOUR, 24 * HOUR, 7 * 24 * HOUR];
  return steps.find((s) => spanMs / s <= 72) ?? 7 * 24 * HOUR;
}

/** `GET /api/project/stats` and `GET /api/machine/stats` (with chartData for the dashboard). */
/** A capped breakdown with one `(other)` entry for what the cap left out (by requests and cost against the totals). */
function withOther<R extends { key: string | null; requests: number; cost: number }>(rows: R[], totals: { requests: number; cost: { total: number } }): (R | { key: string; requests: number; cost: number })[] {
  const requests = totals.requests - rows.reduce((a, r) => a + r.requests, 0);
  if (requests <= 0) return rows;
  const cost = Math.max(0, totals.cost.total - rows.reduce((a, r) => a + r.cost, 0));
  return [...rows, { key: '(other)', requests, cost }];
}

export function registerAnalyticsRoutes(app: FastifyInstance, d: { store: Store; queries: AnalyticsQueries; writer: AnalyticsWriter }): void {
  const window = async (q: z.infer<typeof windowQuery>, defaultHours: number): Promise<StatsFilter & { since: number; until: number }> => {
    // Rows still in the writer's batch count too: a stats call right after a request sees it.
    await d.writer.flush();
    const until = q.until ?? Date.now() + 1;
    const since = q.since ?? until - (q.hours ?? defaultHours) * HOUR;
    if (since >= until) throw new AppError(400, 'invalid_request', `query.since: the window must start before it ends (since ${since}, until ${until})`, { field: 'query.since' });
    // a window of decades was millions of chart buckets: seconds of a blocked event loop and a 300 MB answer
    if (until - since > MAX_WINDOW_MS) throw new AppError(400, 'invalid_request', 'query.since: a stats window is at most 366 days', { field: 'query.since' });
    return { since, until, ...(q.session ? { sessionId: q.session } : {}) };
  };

  app.get('/api/project/stats', async (req) => {
    const q = parseInput(windowQuery, req.query, 'query');
    const w = await window(q, 24 * 30);
    const filter: StatsFilter = q.project ? { ...w, project: q.project } : w;
    const totals = await d.queries.totals(filter);
    // by the model that answered (a fallback's, a route's rewrite), which is what was paid for
    const [byModel, bySession, byAgent] = await Promise.all([d.queries.breakdown(filter, 'upstream_model'), d.queries.breakdown(filter, 'session_id'), d.queries.breakdown(filter, 'agent_id')]);
    return {
      project: q.project ?? null,
      window: { since: w.since, until: w.until },
      // The seeds' short form: cost, tokens, calls, last_updated.
      cost: totals.cost.total,
      tokens: totals.tokens.input + totals.tokens.output + totals.tokens.cacheRead + totals.tokens.cacheWrite,
      calls: totals.requests,
      last_updated: totals.lastRequestAt,
      totals,
      byModel,
      bySession,
      byAgent,
    };
  });

  app.get('/api/machine/stats', async (req) => {
    const q = parseInput(windowQuery, req.query, 'query');
    const win = await window(q, 24);
    const bucket = bucketFor(win.until - win.since);
    // `project=` narrows everything, as on /api/project/stats (it was accepted and ignored)
    const only: Omit<StatsFilter, 'since' | 'until'> = q.project ? { project: q.project } : {};
    const w = { ...win, ...only };
    const [totals, series, models, projects, sessions, providers, allTime, archived] = await Promise.all([
      d.queries.totals(w),
      d.queries.series(w, bucket, (q.utc_offset_minutes ?? 0) * 60_000),
      d.queries.breakdown(w, 'upstream_model'),
      d.queries.breakdown(w, 'project'),
      d.queries.breakdown(w, 'session_id', 10),
      d.queries.breakdown(w, 'provider'),
      d.queries.totals(only),
      q.project ? Promise.resolve(undefined) : d.queries.archivedTotals(),
    ]);
    const mem = process.memoryUsage();
    return {
      machine: { hostname: hostname(), platform: platform(), cpus: cpus().length, loadavg: loadavg(), memory: { totalMb: Math.round(totalmem() / 2 ** 20), freeMb: Math.round(freemem() / 2 ** 20) } },
      process: { pid: process.pid, uptimeSeconds: Math.round(process.uptime()), rssMb: Math.round(mem.rss / 2 ** 20), heapUsedMb: Math.round(mem.heapUsed / 2 ** 20) },
      window: { since: w.since, until: w.until, bucketMs: bucket, utcOffsetMinutes: q.utc_offset_minutes ?? 0 },
      project: q.project ?? null,
      totals,
      // archived rows (POST /api/maintenance/archive-old-analytics) still count here
      allTime: { requests: allTime.requests + (archived?.requests ?? 0), cost: allTime.cost.total + (archived?.cost ?? 0), costSaved: allTime.costSaved + (archived?.costSaved ?? 0), archivedRequests: archived?.requests ?? 0 },
      chartData: {
        costOverTime: series.map((s) => ({ t: s.t, cost: s.cost })),
        requestsOverTime: series.map((s) => ({ t: s.t, requests: s.requests, errors: s.errors, cacheHits: s.cacheHits })),
        tokensOverTime: series.map((s) => ({ t: s.t, tokens: s.tokens })),
        latencyOverTime: series.map((s) => ({ t: s.t, avgLatencyMs: s.avgLatencyMs })),
        cacheHitRateOverTime: series.map((s) => ({ t: s.t, hitRate: s.cacheHitRate })),
        // each list is capped (20 groups, 10 sessions): what is past the cap is one "(other)" entry,
        // so that a distribution adds up to the totals
        modelDistribution: withOther(models, totals).map((m) => ({ model: m.key, requests: m.requests, cost: m.cost })),
        providerDistribution: withOther(providers, totals).map((p) => ({ provider: p.key, requests: p.requests, cost: p.cost })),
        projectCosts: withOther(projects, totals).map((p) => ({ project: p.key ?? '(untagged)', cost: p.cost, requests: p.requests })),
        sessionCosts: withOther(sessions, totals).map((s) => ({ session: s.key ?? '(none)', cost: s.cost, requests: s.requests })),
      },
    };
  });
}

/** Row counts of the gateway tables (maintenance and diagnostics). */
export async function tableCounts(store: Store): Promise<{ gateway_requests: number; gateway_requests_archive: number }> {
  const [a, b] = await Promise.all([
    store.db.selectFrom('gateway_requests').select(sql<number>`count(*)`.as('n')).executeTakeFirst(),
    store.db.selectFrom('gateway_requests_archive').select(sql<number>`count(*)`.as('n')).executeTakeFirst(),
  ]);
  return { gateway_requests: Number(a?.n ?? 0), gateway_requests_archive: Number(b?.n ?? 0) };
}
