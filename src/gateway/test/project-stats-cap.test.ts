import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

/** More sessions than the 10,000 the old session list was capped at. */
const SESSIONS = 10_050;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({});
  const now = Date.now();
  // what SessionStart hooks from /projcap leave behind, and one request per session that did not
  // name its project (no x-cco-project)
  await sql`insert into hook_events (received_at, event, session_id, cwd, payload)
    with recursive n(i) as (select 1 union all select i + 1 from n where i < ${SESSIONS})
    select ${now - 60_000}, 'SessionStart', 'cap-' || i, '/projcap', '{}' from n`.execute(h.store.db);
  await sql`insert into gateway_requests (request_id, ts, endpoint, client_format, provider, route, model, upstream_model, status, latency_ms, session_id, cost_total)
    with recursive n(i) as (select 1 union all select i + 1 from n where i < ${SESSIONS})
    select 'cap-r' || i, ${now - 30_000} + i, 'messages', 'anthropic', 'anthropic', '^claude-', 'claude-sonnet-4-5', 'claude-sonnet-4-5', 200, 3, 'cap-' || i, 0.001 from n`.execute(h.store.db);
  // another project's session, and a hook row without a session: neither counts
  await sql`insert into hook_events (received_at, event, session_id, cwd, payload) values (${now}, 'SessionStart', 'elsewhere', '/other', '{}'), (${now}, 'Notification', null, '/projcap', '{}')`.execute(h.store.db);
  await sql`insert into gateway_requests (request_id, ts, endpoint, client_format, provider, route, model, upstream_model, status, latency_ms, session_id) values ('other-r', ${now - 1000}, 'messages', 'anthropic', 'anthropic', '^claude-', 'm', 'm', 200, 3, 'elsewhere')`.execute(h.store.db);
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const post = (headers: Record<string, string>) =>
  fetch(`${h.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'k', ...headers },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 5, messages: [{ role: 'user', content: `cap ${Math.random()}` }] }),
  }).then((r) => r.text());

describe('project stats with more sessions than a list of them could hold', () => {
  it(`/api/project/stats and /api/machine/stats?project= count all ${SESSIONS} sessions whose hooks reported the directory, and tagged rows`, async () => {
    // through the gateway: one request of a session from /projcap, one tagged with the project
    await post({ 'x-claude-code-session-id': 'cap-1' });
    await post({ 'x-cco-project': '/projcap' });
    const expected = SESSIONS + 2;
    const p = (await (await fetch(`${h.url}/api/project/stats?project=/projcap&hours=1`)).json()) as { calls: number; totals: { requests: number } };
    expect(p.totals.requests).toBe(expected);
    expect(p.calls).toBe(expected);
    const m = (await (await fetch(`${h.url}/api/machine/stats?project=/projcap&hours=1`)).json()) as { totals: { requests: number }; allTime: { requests: number }; chartData: { requestsOverTime: { requests: number }[] } };
    expect(m.totals.requests).toBe(expected);
    expect(m.allTime.requests).toBe(expected);
    expect(m.chartData.requestsOverTime.reduce((a, b) => a + b.requests, 0)).toBe(expected);
    // the other project sees only its own session
    const o = (await (await fetch(`${h.url}/api/project/stats?project=/other&hours=1`)).json()) as { totals: { requests: number } };
    expect(o.totals.requests).toBe(1);
  }, 30_000);

  it('the sessions of a directory are found through an index, not by reading every hook event', async () => {
    const plan = (await sql<{ detail: string }>`explain query plan select distinct session_id from hook_events where cwd = ${'/projcap'} and session_id is not null`.execute(h.store.db)).rows;
    expect(plan.map((r) => r.detail).join('\n')).toMatch(/USING COVERING INDEX hook_events_cwd/);
  });
});
