import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SideReader } from '../../store/sqlite-side-thread.js';
import { QueryProfiler } from '../analytics/profiler.js';
import { AnalyticsQueries } from '../analytics/queries.js';
import { startHarness } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

const ROWS = 80_000;
const HOUR = 3_600_000;

let h: Harness;
let now: number;
beforeAll(async () => {
  h = await startHarness({});
  now = Date.now();
  // a dashboard's worth of history: rows over the last 20 hours, 7 models, 30 projects, 5,000 sessions
  await sql`insert into gateway_requests (request_id, ts, endpoint, client_format, provider, route, model, upstream_model, status, error_type, cache_hit, cache_key, input_tokens, output_tokens, cost_total, cost_saved, latency_ms, session_id, agent_id, project)
    with recursive n(i) as (select 1 union all select i + 1 from n where i < ${ROWS})
    select 'r' || i, ${now - 20 * HOUR} + i * ${Math.floor((20 * HOUR) / ROWS)}, 'messages', 'anthropic', case when i % 3 = 0 then 'openai' else 'anthropic' end, '^claude-', 'claude-' || (i % 7), 'claude-' || (i % 7),
      case when i % 50 = 0 then 529 else 200 end, case when i % 50 = 0 then 'overloaded_error' end, i % 4 = 0, 'k' || (i % 900), 100 + i % 17, 10 + i % 13, (i % 11) * 0.0001, (i % 4 = 0) * 0.0002, 3 + i % 40,
      's' || (i % 5000), 'a' || (i % 9), case when i % 2 = 0 then '/p' || (i % 30) end from n`.execute(h.store.db);
  await sql`insert into hook_events (received_at, event, session_id, cwd, payload)
    with recursive n(i) as (select 1 union all select i + 1 from n where i < 5000)
    select ${now}, 'SessionStart', 's' || i, '/p' || (i % 30), '{}' from n`.execute(h.store.db);
  await sql`insert into gateway_requests_archive (request_id, ts, endpoint, client_format, provider, route, model, upstream_model, status, latency_ms, cost_total, cost_saved) values ('old', 1, 'messages', 'anthropic', 'anthropic', '^claude-', 'm', 'm', 200, 3, 0.5, 0.25)`.execute(h.store.db);
  // the bulk insert's WAL is copied now, not by the first commit of a measured request
  await sql`pragma wal_checkpoint(truncate)`.execute(h.store.db);
}, 60_000);
afterAll(async () => {
  await h?.gateway.queries.close();
  await h?.close();
});

/** The longest the event loop went without running a timer while `run` ran, and how long `run` took. */
async function blocking<T>(run: () => Promise<T>): Promise<{ value: T; maxGapMs: number; ms: number }> {
  let last = performance.now();
  let maxGapMs = 0;
  const timer = setInterval(() => {
    const t = performance.now();
    maxGapMs = Math.max(maxGapMs, t - last);
    last = t;
  }, 1);
  const t0 = performance.now();
  try {
    const value = await run();
    maxGapMs = Math.max(maxGapMs, performance.now() - last);
    return { value, maxGapMs, ms: performance.now() - t0 };
  } finally {
    clearInterval(timer);
  }
}

const getJson = async (path: string): Promise<Record<string, unknown>> => {
  const r = await fetch(`${h.url}${path}`);
  expect(r.status, path).toBe(200);
  return (await r.json()) as Record<string, unknown>;
};

const v1 = async (content: string): Promise<void> => {
  const r = await fetch(`${h.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k' }, body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 5, messages: [{ role: 'user', content: `${content} ${Math.random()}` }] }) });
  expect(r.status).toBe(200);
  await r.text();
};

describe('/api/project/stats and /api/machine/stats on a SQLite file read off the event loop', () => {
  it('a request answered while the stats queries run is not held up by them', async () => {
    // the first calls start the side thread and warm the /v1 path (its first requests compile code)
    await getJson('/api/machine/stats?hours=24');
    for (let i = 0; i < 8; i++) await v1('warm');
    // the two calls that read every row (the dashboard's polls); a narrower one is over too soon to measure
    for (const path of ['/api/machine/stats?hours=24', '/api/project/stats']) {
      const order: string[] = [];
      const b = await blocking(async () => {
        const stats = getJson(path).then(() => order.push('stats'));
        // a /v1 request sent once the stats call is under way comes back before it
        await new Promise((r) => setTimeout(r, 5));
        await Promise.all([stats, v1(path).then(() => order.push('v1'))]);
      });
      // on the store's connection the loop stood still for about all of the call
      expect(b.maxGapMs, `${path}: ${JSON.stringify(b)}`).toBeLessThan(b.ms / 3);
      expect(order, path).toEqual(['v1', 'stats']);
    }
  });

  it('answers what the store’s own connection answers', async () => {
    const side = h.gateway.queries;
    const onLoop = new AnalyticsQueries(h.store, new QueryProfiler(), { sideThread: false });
    const w = { since: now - 24 * HOUR, until: now + 1 };
    for (const f of [w, { ...w, project: '/p3' }, { ...w, sessionId: 's42' }, {}]) {
      expect(await side.totals(f)).toEqual(await onLoop.totals(f));
      for (const by of ['model', 'upstream_model', 'session_id', 'agent_id', 'project', 'provider'] as const) expect(await side.breakdown(f, by)).toEqual(await onLoop.breakdown(f, by));
    }
    expect(await side.series(w, HOUR, 330 * 60_000)).toEqual(await onLoop.series(w, HOUR, 330 * 60_000));
    expect(await side.archivedTotals()).toEqual(await onLoop.archivedTotals());
    // and through HTTP, the route's answer is built from the same figures
    const m = (await getJson(`/api/machine/stats?since=${w.since}&until=${w.until}`)) as { totals: unknown; allTime: { requests: number; cost: number } };
    expect(m.totals).toEqual(await onLoop.totals(w));
    const all = await onLoop.totals({});
    expect(m.allTime).toMatchObject({ requests: all.requests + 1, archivedRequests: 1 });
    const p = (await getJson(`/api/project/stats?project=/p3&since=${w.since}&until=${w.until}`)) as { totals: unknown; byModel: unknown };
    expect(p.totals).toEqual(await onLoop.totals({ ...w, project: '/p3' }));
    expect(p.byModel).toEqual(await onLoop.breakdown({ ...w, project: '/p3' }, 'upstream_model'));
  });

  it('a failing read rejects with the SQLite error, and the side thread goes on answering', async () => {
    const q = h.gateway.queries;
    await expect(q.breakdown({}, 'no_such_column' as 'model')).rejects.toThrow(/no such column/);
    expect((await q.archivedTotals()).requests).toBe(1);
  });

  it('the side thread ends when idle and starts again on the next read', async () => {
    const reader = new SideReader(h.store.location, { idleMs: 20 });
    try {
      const count = () => reader.all<{ n: number }>(sql<{ n: number }>`select count(*) as n from gateway_requests_archive`.compile(h.store.db));
      expect(await count()).toEqual([{ n: 1 }]);
      await new Promise((r) => setTimeout(r, 200));
      expect(await count()).toEqual([{ n: 1 }]);
      // a read-only connection: a write is refused
      await expect(reader.all(sql`delete from gateway_requests_archive`.compile(h.store.db))).rejects.toThrow(/not a read|readonly/);
    } finally {
      await reader.close();
    }
  });
});
