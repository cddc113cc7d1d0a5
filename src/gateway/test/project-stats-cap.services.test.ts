import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore } from '../../testing/test-store.js';
import type { TestStore } from '../../testing/test-store.js';
import { startHarness } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

const url = process.env.DATABASE_URL;
/** More sessions than the 10,000 the old session list was capped at. */
const SESSIONS = 10_050;

if (!url) {
  describe('project stats past 10,000 sessions on PostgreSQL', () => {
    it.skip('skipped: DATABASE_URL is not set (CI sets it; e.g. postgres://postgres@127.0.0.1:5432/test)', () => undefined);
  });
} else {
  describe('project stats past 10,000 sessions on PostgreSQL', () => {
    let ts: TestStore;
    let h: Harness;
    beforeAll(async () => {
      ts = await openTestStore('postgres');
      h = await startHarness({ store: ts.store });
      const now = Date.now();
      await sql`insert into hook_events (received_at, event, session_id, cwd, payload)
        select ${now - 60_000}::bigint, 'SessionStart', 'cap-' || i, '/projcap', '{}' from generate_series(1, ${SESSIONS}::int) i`.execute(ts.store.db);
      await sql`insert into gateway_requests (request_id, ts, endpoint, client_format, provider, route, model, upstream_model, status, latency_ms, session_id)
        select 'cap-r' || i, ${now - 30_000}::bigint + i, 'messages', 'anthropic', 'anthropic', '^claude-', 'm', 'm', 200, 3, 'cap-' || i from generate_series(1, ${SESSIONS}::int) i`.execute(ts.store.db);
      await sql`insert into hook_events (received_at, event, session_id, cwd, payload) values (${now}, 'SessionStart', 'elsewhere', '/other', '{}')`.execute(ts.store.db);
      await sql`insert into gateway_requests (request_id, ts, endpoint, client_format, provider, route, model, upstream_model, status, latency_ms, session_id, project) values ('other-r', ${now - 1000}, 'messages', 'anthropic', 'anthropic', '^claude-', 'm', 'm', 200, 3, 'elsewhere', null), ('tagged-r', ${now - 1000}, 'messages', 'anthropic', 'anthropic', '^claude-', 'm', 'm', 200, 3, null, '/projcap')`.execute(ts.store.db);
    }, 60_000);
    afterAll(async () => {
      await h?.close();
      await ts?.cleanup();
    });

    it('/api/project/stats and /api/machine/stats?project= count every session whose hooks reported the directory', async () => {
      const p = (await (await fetch(`${h.url}/api/project/stats?project=/projcap&hours=1`)).json()) as { totals: { requests: number } };
      expect(p.totals.requests).toBe(SESSIONS + 1);
      const m = (await (await fetch(`${h.url}/api/machine/stats?project=/projcap&hours=1`)).json()) as { totals: { requests: number } };
      expect(m.totals.requests).toBe(SESSIONS + 1);
      const o = (await (await fetch(`${h.url}/api/project/stats?project=/other&hours=1`)).json()) as { totals: { requests: number } };
      expect(o.totals.requests).toBe(1);
      const ix = (await sql<{ indexdef: string }>`select indexdef from pg_indexes where indexname = 'hook_events_cwd' and schemaname = current_schema()`.execute(ts.store.db)).rows;
      expect(ix[0]?.indexdef).toMatch(/\(cwd, session_id\)/);
    });
  });
}
