import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_INDEXES } from '../../store/migrations/gateway.js';
import { startHarness } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({});
  // 400,000 rows: rebuilding four indexes takes a good fraction of a second
  await sql`insert into gateway_requests (request_id, ts, endpoint, client_format, provider, route, model, upstream_model, status, latency_ms, session_id, project)
    with recursive n(i) as (select 1 union all select i + 1 from n where i < 400000)
    select 'r' || i, 1700000000000 + i * 1000, 'messages', 'anthropic', 'anthropic', 'default', 'claude-' || (i % 7), 'm', 200, 3, 's' || (i % 5000), 'p' || (i % 30) from n`.execute(h.store.db);
  await sql`drop index gateway_requests_session_ts`.execute(h.store.db);
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('POST /api/database/rebuild-indexes on a SQLite file', () => {
  it('re-creates a missing index and rebuilds them all off the event loop: other requests are answered meanwhile', async () => {
    const order: string[] = [];
    const rebuild = fetch(`${h.url}/api/database/rebuild-indexes`, { method: 'POST' }).then(async (r) => {
      order.push('rebuild');
      return { status: r.status, body: (await r.json()) as { status: string; indexes: string[]; steps: { sql: string; ms: number }[] } };
    });
    // once the rebuild has begun, requests to the same process come back before it ends (on the
    // event loop, better-sqlite3 would hold them all until the last index is built)
    await new Promise((r) => setTimeout(r, 30));
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${h.url}/api/project/stats`);
      expect(r.status).toBe(200);
      order.push('stats');
    }
    const done = await rebuild;
    expect(done.status).toBe(200);
    expect(order[0]).toBe('stats');
    expect(done.body.steps.map((s) => s.sql)).toEqual(expect.arrayContaining(GATEWAY_INDEXES.map((ix) => `reindex ${ix.name}`)));
    const names = (await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = 'gateway_requests'`.execute(h.store.db)).rows.map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(GATEWAY_INDEXES.map((ix) => ix.name)));
    const integrity = (await sql<{ integrity_check: string }>`pragma integrity_check`.execute(h.store.db)).rows;
    expect(integrity).toEqual([{ integrity_check: 'ok' }]);
  }, 60_000);
});
