import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { z } from 'zod';
import { AppError } from '../../core/errors.js';
import { parseInput } from '../../server/validate.js';
import { createGatewayIndexes, GATEWAY_INDEXES } from '../../store/migrations/gateway.js';
import { runOffThread, type SideStatementTiming } from '../../store/sqlite-side-thread.js';
import type { Store } from '../../store/store.js';
import type { QueryProfiler } from '../analytics/profiler.js';
import type { AnalyticsQueries } from '../analytics/queries.js';
import type { Telemetry } from '../analytics/telemetry.js';
import type { AnalyticsWriter } from '../analytics/writer.js';
import { GatewayError } from '../proxy/errors.js';
import type { GatewayCore } from '../proxy/gateway-core.js';
import { meansAllProviders } from '../resilience/providers.js';
import type { RoutingStore } from '../routing/store.js';
import { tableCounts } from './analytics-routes.js';

const DAY = 86_400_000;
/** Rows moved per archive transaction. */
const ARCHIVE_BATCH = 2000;

const COLUMNS = [
  'id', 'request_id', 'ts', 'endpoint', 'client_format', 'provider', 'route', 'model', 'upstream_model', 'status', 'error_type', 'stream', 'cache_hit',
  'input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens', 'cost_input', 'cost_output', 'cost_cache_write', 'cost_cache_read', 'cost_total',
  'cost_saved', 'latency_ms', 'ttft_ms', 'retries', 'fallback_from', 'session_id', 'agent_id', 'parent_agent_id', 'client', 'project', 'cache_key',
] as const;

/** How long `run` took, in milliseconds. */
async function msOf(run: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await run();
  return performance.now() - t0;
}

/**
 * Creates missing indexes of gateway_requests and rebuilds them all, without holding the event
 * loop: on a SQLite file, index by index on a thread of its own (a million rows took 2.4 s on the
 * event loop); on PostgreSQL, `reindex ... concurrently`, which lets writes go on.
 */
async function rebuildIndexes(store: Store): Promise<SideStatementTiming[]> {
  const file = store.location;
  if (store.dialect === 'sqlite' && file !== ':memory:' && !file.startsWith('file:')) {
    const create = GATEWAY_INDEXES.map((ix) => store.db.schema.createIndex(ix.name).ifNotExists().on('gateway_requests').columns(ix.columns).compile().sql);
    return runOffThread(file, [...create, ...GATEWAY_INDEXES.map((ix) => `reindex ${ix.name}`)]);
  }
  const step = async (text: string, run: () => Promise<unknown>): Promise<SideStatementTiming> => ({ sql: text, ms: Math.round(await msOf(run)) });
  const steps = [await step('create missing indexes', () => createGatewayIndexes(store.db))];
  if (store.dialect === 'postgres') steps.push(await step('reindex table concurrently gateway_requests', () => sql`reindex table concurrently gateway_requests`.execute(store.db)));
  else steps.push(await step('reindex gateway_requests', () => sql`reindex gateway_requests`.execute(store.db)));
  return steps;
}

export interface OpsDeps {
  store: Store;
  core: GatewayCore;
  routing: RoutingStore;
  telemetry: Telemetry;
  writer: AnalyticsWriter;
  queries: AnalyticsQueries;
  profiler: QueryProfiler;
}

const DEFAULT_ARCHIVE_DAYS = 90;

/**
 * `older_than_days` of an archive request, from the JSON body (the guide's `-d '{"older_than_days": 90}'`)
 * or the query string (`?older_than_days=30`); given in both, they must agree. Default 90.
 */
function archiveAge(body: unknown, query: unknown): number {
  const b = parseInput(z.object({ older_than_days: z.number().int().min(0).max(36_500).optional() }).strict(), body ?? {}, 'body');
  const q = parseInput(z.object({ older_than_days: z.coerce.number().int().min(0).max(36_500).optional() }).strict(), query ?? {}, 'query');
  if (b.older_than_days !== undefined && q.older_than_days !== undefined && b.older_than_days !== q.older_than_days) {
    throw new AppError(400, 'invalid_request', `query.older_than_days: ${q.older_than_days} in the query but ${b.older_than_days} in the body; give it once`, { field: 'query.older_than_days' });
  }
  return b.older_than_days ?? q.older_than_days ?? DEFAULT_ARCHIVE_DAYS;
}

/**
 * Which breaker a reset names: `provider`, or `service` as the guides call it (one of them); none
 * or "llm" means every provider's. `field` is the key it came in, for a 404.
 */
function breakerToReset(body: unknown): { name: string | undefined; field: string } {
  const name = z.string().min(1).max(100).optional();
  const b = parseInput(z.object({ provider: name, service: name }).strict(), body ?? {}, 'body');
  if (b.provider !== undefined && b.service !== undefined) {
    throw new AppError(400, 'invalid_request', 'body.service: give provider or service, not both (service is another name for provider; "llm" resets every provider)', { field: 'body.service' });
  }
  return b.service !== undefined ? { name: b.service, field: 'body.service' } : { name: b.provider, field: 'body.provider' };
}

/** Maintenance, database and debugging endpoints of the seeds' troubleshooting guide. */
export function registerOpsRoutes(app: FastifyInstance, d: OpsDeps): void {
  app.post('/api/maintenance/archive-old-analytics', async (req) => {
    const olderThanDays = archiveAge(req.body, req.query);
    await d.writer.flush();
    const cutoff = Date.now() - olderThanDays * DAY;
    // In batches of rows named by id, one transaction each, yielding between them: one statement
    // over a million rows held the event loop (and every /v1 request) for seconds. The same ids
    // are copied and deleted, so a row committed meanwhile is never deleted unarchived.
    let archived = 0;
    for (;;) {
      const ids = (await d.store.db.selectFrom('gateway_requests').select('id').where('ts', '<', cutoff).orderBy('id').limit(ARCHIVE_BATCH).execute()).map((r) => r.id);
      if (ids.length === 0) break;
      archived += await d.store.db.transaction().execute(async (tx) => {
        await tx
          .insertInto('gateway_requests_archive')
          .columns([...COLUMNS])
          .expression(tx.selectFrom('gateway_requests').select([...COLUMNS]).where('id', 'in', ids))
          .execute();
        const r = await tx.deleteFrom('gateway_requests').where('id', 'in', ids).executeTakeFirst();
        return Number(r.numDeletedRows);
      });
      await new Promise((r) => setImmediate(r));
    }
    return { status: 'ok', archived, older_than_days: olderThanDays, cutoff, tables: await tableCounts(d.store) };
  });

  app.post('/api/database/analyze', async () => {
    await d.writer.flush();
    const t0 = performance.now();
    // SQLite: statistics from a sample of each index (exact ones read every row, for seconds on
    // a large table, on the event loop)
    if (d.store.dialect === 'sqlite') await sql`pragma analysis_limit = 1000`.execute(d.store.db);
    await sql`analyze`.execute(d.store.db);
    const analyzeMs = performance.now() - t0;
    const now = Date.now();
    const timed = async (name: string, fn: () => Promise<unknown>) => ({ query: name, ms: Math.round((await msOf(fn)) * 100) / 100 });
    const queries = [
      await timed('totals (30 days)', () => d.queries.totals({ since: now - 30 * DAY })),
      await timed('by model (30 days)', () => d.queries.breakdown({ since: now - 30 * DAY }, 'model')),
      await timed('by session (30 days)', () => d.queries.breakdown({ since: now - 30 * DAY }, 'session_id')),
      await timed('time series (24 h)', () => d.queries.series({ since: now - DAY, until: now }, 3_600_000)),
      await timed('route stats (24 h)', () => d.queries.routeStats({ since: now - DAY, until: now })),
    ];
    return {
      status: 'ok',
      dialect: d.store.dialect,
      analyzeMs: Math.round(analyzeMs),
      tables: await tableCounts(d.store),
      queries,
      slowQueries: queries.filter((q) => q.ms > 100),
      advice: queries.some((q) => q.ms > 100) ? 'Slow analytics queries: archive old rows (POST /api/maintenance/archive-old-analytics) or rebuild indexes (POST /api/database/rebuild-indexes)' : 'All analytics queries are fast',
    };
  });

  app.post('/api/database/profile', async (req) => {
    const b = parseInput(z.object({ duration_seconds: z.number().int().min(1).max(86_400).default(300) }).strict(), req.body ?? {}, 'body');
    return { status: 'profiling', ...d.profiler.enable(b.duration_seconds * 1000), hint: 'run your queries, then GET /api/database/profile-results' };
  });

  app.get('/api/database/profile-results', async () => d.profiler.results());

  app.post('/api/database/rebuild-indexes', async () => {
    await d.writer.flush();
    const t0 = performance.now();
    const steps = await rebuildIndexes(d.store);
    return { status: 'ok', indexes: GATEWAY_INDEXES.map((i) => i.name), ms: Math.round(performance.now() - t0), steps };
  });

  app.get('/api/debug/requests', async (req) => {
    const q = parseInput(z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }).strict(), req.query, 'query');
    return {
      requests: d.telemetry.recent(q.limit),
    };
  });

  // With `cco proxy --workers N` each worker answers for its own requests: `pid` says which one.
  app.get('/api/debug/active-requests', async () => ({ pid: process.pid, count: d.core.active.count, requests: d.core.active.list() }));

  app.post('/api/requests/kill', async (req) => {
    // digits only: an empty value coerced to 0 and killed every request in flight
    const q = parseInput(z.object({ older_than: z.string().regex(/^\d{1,8}$/, 'a whole number of milliseconds').transform(Number).pipe(z.number().max(86_400_000)) }).strict(), req.query, 'query');
    const ids = d.core.active.kill(q.older_than, () => new GatewayError(503, 'request_killed', `Request killed by an operator (older than ${q.older_than} ms)`));
    return { status: 'ok', pid: process.pid, killed: ids.length, ids };
  });

  app.get('/api/gateway/status', async () => ({ routing: d.routing.status(), breakers: d.core.providers.breakers(), queues: d.core.providers.queues(), activeRequests: d.core.active.count }));

  app.post('/api/gateway/breakers/reset', async (req) => {
    const { name, field } = breakerToReset(req.body);
    const reset = d.core.providers.resetBreakers(name);
    if (name && !meansAllProviders(name) && !reset.length) throw new AppError(404, 'not_found', `No circuit breaker for provider ${name} (known: ${Object.keys(d.core.providers.breakers()).join(', ') || 'none yet'})`, { field });
    return { status: 'ok', reset, breakers: d.core.providers.breakers() };
  });

  app.post('/api/gateway/routing/reload', async () => {
    const r = d.routing.reload();
    if (!r.ok) throw new AppError(400, 'config_invalid', r.error ?? 'routing configuration refused');
    return { status: 'ok', routing: d.routing.status() };
  });
}
