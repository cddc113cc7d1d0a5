import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubMessage } from '../../hub/hub.js';
import { testRecord } from '../testing/record.js';
import { startHarness } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ cacheTtlSeconds: 3600 });
});
afterAll(async () => {
  await h?.close();
});

const post = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${h.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k', ...headers }, body: JSON.stringify(body) });

describe('analytics', () => {
  it('records one row per request with tokens in four buckets, cost, session attribution and cache savings', async () => {
    const seen: HubMessage[] = [];
    const off = h.hub.subscribe((m) => m.type === 'gateway_request' && seen.push(m));
    // claude-sonnet-4-5: $3 in, $15 out, $3.75 cache write, $0.30 cache read per million.
    h.fake.queue({ text: 'a', usage: { input_tokens: 1000, output_tokens: 2000, cache_creation_input_tokens: 4000, cache_read_input_tokens: 10000 } });
    const body = { model: 'claude-sonnet-4-5', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'cost me' }] };
    const sess = { 'x-claude-code-session-id': 'sess-A', 'x-claude-code-agent-id': 'agent-1', 'x-claude-code-parent-agent-id': 'agent-0' };
    const r1 = await post(body, sess);
    await r1.text();
    expect(r1.headers.get('x-cco-cache')).toBe('MISS');
    const r2 = await post(body, sess);
    await r2.text();
    expect(r2.headers.get('x-cco-cache')).toBe('HIT');
    off();
    await h.gateway.writer.flush();
    const rows = await h.store.db.selectFrom('gateway_requests').selectAll().orderBy('id').execute();
    expect(rows).toHaveLength(2);
    const [miss, hit] = rows;
    expect(miss).toMatchObject({ model: 'claude-sonnet-4-5', provider: 'anthropic', route: '^claude-', status: 200, stream: 1, cache_hit: 0, input_tokens: 1000, output_tokens: expect.any(Number), cache_write_tokens: 4000, cache_read_tokens: 10000, session_id: 'sess-A', agent_id: 'agent-1', parent_agent_id: 'agent-0' });
    const expected = (1000 * 3 + (miss?.output_tokens ?? 0) * 15 + 4000 * 3.75 + 10000 * 0.3) / 1e6;
    expect(miss?.cost_total).toBeCloseTo(expected, 9);
    expect(miss?.cost_cache_read).toBeCloseTo(0.003, 9);
    expect(hit).toMatchObject({ cache_hit: 1, cost_total: 0 });
    expect(hit?.cost_saved).toBeCloseTo(expected, 9);
    expect(seen).toHaveLength(2);
    expect(seen[0]?.data).toMatchObject({ model: 'claude-sonnet-4-5', status: 200, cacheHit: false, tokens: { input: 1000, cacheWrite: 4000, cacheRead: 10000 } });
  });

  it('GET /api/project/stats and /api/machine/stats (chartData) report what was recorded', async () => {
    const p = (await (await fetch(`${h.url}/api/project/stats`)).json()) as Record<string, unknown> & { totals: { requests: number; cacheHits: number; costSaved: number }; bySession: { key: string }[] };
    expect(p.calls).toBe(2);
    expect(p.totals.cacheHits).toBe(1);
    expect(p.totals.costSaved).toBeGreaterThan(0);
    expect(p.bySession[0]?.key).toBe('sess-A');
    const m = (await (await fetch(`${h.url}/api/machine/stats?hours=6`)).json()) as { chartData: { costOverTime: { t: number; cost: number }[]; modelDistribution: { model: string; requests: number }[] } };
    expect(m.chartData.costOverTime.length).toBeGreaterThan(10);
    expect(m.chartData.costOverTime.reduce((a, b) => a + b.cost, 0)).toBeGreaterThan(0);
    expect(m.chartData.modelDistribution[0]).toMatchObject({ model: 'claude-sonnet-4-5', requests: 2 });
    const bad = await fetch(`${h.url}/api/machine/stats?hours=-1`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe('query.hours');
    // a window of decades (millions of chart buckets), or one that ends before it starts
    for (const q of ['since=0&until=1125899906842624', 'since=0', 'since=2000&until=1000', `since=${Date.now() - 400 * 86_400_000}`]) {
      const r = await fetch(`${h.url}/api/machine/stats?${q}`);
      expect(r.status, q).toBe(400);
      expect(((await r.json()) as { error: { field: string } }).error.field, q).toMatch(/^query\.(since|until)$/);
    }
    const year = (await (await fetch(`${h.url}/api/machine/stats?hours=${24 * 365}`)).json()) as { chartData: { costOverTime: unknown[] } };
    expect(year.chartData.costOverTime.length).toBeLessThanOrEqual(72);
    // buckets on the reader's clock: a week in day buckets from India's midnight
    const ist = (await (await fetch(`${h.url}/api/machine/stats?hours=${24 * 30}&utc_offset_minutes=330`)).json()) as { window: { bucketMs: number; utcOffsetMinutes: number }; chartData: { costOverTime: { t: number; cost: number }[] } };
    expect(ist.window).toMatchObject({ bucketMs: 86_400_000, utcOffsetMinutes: 330 });
    for (const b of ist.chartData.costOverTime) expect((b.t + 330 * 60_000) % 86_400_000).toBe(0);
    expect(ist.chartData.costOverTime.reduce((a, b) => a + b.cost, 0)).toBeGreaterThan(0);
    const off = await fetch(`${h.url}/api/machine/stats?utc_offset_minutes=5000`);
    expect(off.status).toBe(400);
    expect(((await off.json()) as { error: { field: string } }).error.field).toBe('query.utc_offset_minutes');
  });

  it('route stats for the improve module and maintenance endpoints', async () => {
    const stats = await h.gateway.queries.routeStats({ since: 0, until: Date.now() + 1 });
    expect(stats[0]).toMatchObject({ route: '^claude-', requests: 2, cache_hits: 1, errors: 0 });
    const an = (await (await fetch(`${h.url}/api/database/analyze`, { method: 'POST' })).json()) as { status: string; queries: unknown[] };
    expect(an.status).toBe('ok');
    expect(an.queries.length).toBeGreaterThan(3);
    await fetch(`${h.url}/api/database/profile`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"duration_seconds": 60}' });
    await fetch(`${h.url}/api/project/stats`);
    const prof = (await (await fetch(`${h.url}/api/database/profile-results`)).json()) as { queries: { query: string }[] };
    expect(prof.queries.map((q) => q.query)).toContain('totals');
    const ri = await fetch(`${h.url}/api/database/rebuild-indexes`, { method: 'POST' });
    expect(ri.status).toBe(200);
    // Nothing is 90 days old; everything is older than 0 days.
    const a1 = (await (await fetch(`${h.url}/api/maintenance/archive-old-analytics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"older_than_days": 90}' })).json()) as { archived: number };
    expect(a1.archived).toBe(0);
    const a2 = (await (await fetch(`${h.url}/api/maintenance/archive-old-analytics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"older_than_days": 0}' })).json()) as { archived: number; tables: Record<string, number> };
    expect(a2.archived).toBe(2);
    expect(a2.tables).toEqual({ gateway_requests: 0, gateway_requests_archive: 2 });
    const bad = await fetch(`${h.url}/api/maintenance/archive-old-analytics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"older_than_days": "x"}' });
    expect(bad.status).toBe(400);
    // more rows than one archive batch: each moved exactly once, the recent ones stay
    const old = Date.now() - 200 * 86_400_000;
    for (let i = 0; i < 4500; i++) h.gateway.writer.add(testRecord({ id: `old-${i}`, ts: old + i }));
    for (let i = 0; i < 3; i++) h.gateway.writer.add(testRecord({ id: `new-${i}`, ts: Date.now() }));
    await h.gateway.writer.flush();
    const a3 = (await (await fetch(`${h.url}/api/maintenance/archive-old-analytics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"older_than_days": 90}' })).json()) as { archived: number; tables: Record<string, number> };
    expect(a3.archived).toBe(4500);
    expect(a3.tables).toEqual({ gateway_requests: 3, gateway_requests_archive: 4502 });
    const dup = await h.store.db.selectFrom('gateway_requests_archive').select((eb) => eb.fn.count<number>('request_id').distinct().as('n')).executeTakeFirstOrThrow();
    expect(Number(dup.n)).toBe(4502);
  });
});
