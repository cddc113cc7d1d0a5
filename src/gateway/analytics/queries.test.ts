import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.js';
import { openStore } from '../../store/store.js';
import type { Store } from '../../store/store.js';
import { testRecord } from '../testing/record.js';
import { AnalyticsWriter } from './writer.js';
import { QueryProfiler } from './profiler.js';
import { AnalyticsQueries } from './queries.js';

describe('AnalyticsQueries', () => {
  let dir: string;
  let store: Store;
  const t0 = 1_700_000_000_000;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cco-queries-'));
    store = await openStore({ sqlitePath: join(dir, 'a.db') });
    const w = new AnalyticsWriter(store, createLogger({ level: 'silent' }).logger, { intervalMs: 10_000 });
    const at = (i: number) => ({ id: `r${i}`, ts: t0 + i, route: '^claude-' });
    w.add(testRecord({ ...at(1), status: 200 }));
    // a client that went away (Esc in Claude Code) is not an error
    w.add(testRecord({ ...at(2), status: 499, errorType: 'client_closed' }));
    w.add(testRecord({ ...at(3), status: 529, errorType: 'overloaded_error' }));
    // a stream that broke off after its 200
    w.add(testRecord({ ...at(4), status: 200, errorType: 'stream_error' }));
    // dollars whose float sum is 0.30000000000000004
    for (const [i, total] of [[100, 0.1], [101, 0.2]] as const) w.add(testRecord({ id: `c${i}`, ts: t0 + 10 * 86_400_000 + i, model: 'gpt-4o', upstreamModel: 'gpt-4o', cost: { input: total, output: 0, cacheWrite: 0, cacheRead: 0, total, priced: true } }));
    // project matching: one row tagged, one of a session whose hooks reported the directory
    w.add(testRecord({ id: 'p1', ts: t0 + 20 * 86_400_000, project: '/proj' }));
    w.add(testRecord({ id: 'p2', ts: t0 + 20 * 86_400_000 + 1, sessionId: 'hooked' }));
    w.add(testRecord({ id: 'p3', ts: t0 + 20 * 86_400_000 + 2, sessionId: 'stranger' }));
    await w.close();
    await store.db
      .insertInto('hook_events')
      .values([
        { received_at: t0, event: 'SessionStart', session_id: 'hooked', cwd: '/proj', payload: '{}' },
        { received_at: t0, event: 'SessionStart', session_id: 'stranger', cwd: '/elsewhere', payload: '{}' },
      ])
      .execute();
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts errors the same way in totals, the chart series and route stats (client_closed is none)', async () => {
    const q = new AnalyticsQueries(store, new QueryProfiler());
    const window = { since: t0, until: t0 + 60_000 };
    expect((await q.totals(window)).errors).toBe(2);
    const series = await q.series(window, 60_000);
    expect(series.reduce((a, b) => a + Number((b as { errors: number }).errors), 0)).toBe(2);
    expect((await q.routeStats(window))[0]).toMatchObject({ requests: 4, errors: 2 });
  });

  it("route stats' p95 past the latency sample is the window's, not the fastest requests' (an even sample, not a cut of the sorted list)", async () => {
    const d = mkdtempSync(join(tmpdir(), 'cco-queries-p95-'));
    const s = await openStore({ sqlitePath: join(d, 'a.db') });
    try {
      const w = new AnalyticsWriter(s, createLogger({ level: 'silent' }).logger, { intervalMs: 10_000 });
      const base = 1_800_000_000_000;
      // 1,000 misses of one route, 1 to 1,000 ms, in an order unrelated to their latency
      for (let i = 0; i < 1000; i++) w.add(testRecord({ id: `l${i}`, ts: base + i, route: '^claude-', latencyMs: ((i * 7919) % 1000) + 1 }));
      // a quiet route beside it: 5 slow misses
      for (let i = 0; i < 5; i++) w.add(testRecord({ id: `q${i}`, ts: base + 2 + i * 97, route: '^gpt-', latencyMs: 5000 }));
      await w.close();
      const q = new AnalyticsQueries(s, new QueryProfiler(), { sideThread: false, latencySample: 100 });
      const stats = await q.routeStats({ since: base, until: base + 1000 });
      const r = stats.find((x) => x.route === '^claude-');
      // sampled on its own: was p50 / p95 0 (no row of it fell on the window's step)
      expect(stats.find((x) => x.route === '^gpt-')).toMatchObject({ latency_p50_ms: 5000, latency_p95_ms: 5000 });
      expect(r?.requests).toBe(1000);
      // was: the 100 fastest (p95 95 ms)
      expect(r?.latency_p95_ms).toBeGreaterThan(900);
      expect(r?.latency_p50_ms).toBeGreaterThan(400);
      expect(r?.latency_p50_ms).toBeLessThan(600);
    } finally {
      await s.close();
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('day buckets start at the reader’s midnight (utc offset), and every row lands in the bucket of its local day', async () => {
    const q = new AnalyticsQueries(store, new QueryProfiler());
    const DAY = 86_400_000;
    const offset = 330 * 60_000; // UTC+5:30
    // t0 + 1..4 ms is 2023-11-14 22:13 UTC: 03:43 on the 15th in India
    const window = { since: t0 - 2 * DAY, until: t0 + DAY };
    const local = await q.series(window, DAY, offset);
    for (const b of local) expect((b.t + offset) % DAY).toBe(0);
    const hit = local.filter((b) => b.requests > 0);
    expect(hit).toHaveLength(1);
    expect(hit[0]?.requests).toBe(4);
    expect(new Date((hit[0]?.t ?? 0) + offset).toISOString()).toBe('2023-11-15T00:00:00.000Z');
    // in UTC the same rows are on the 14th
    const utc = (await q.series(window, DAY)).filter((b) => b.requests > 0);
    expect(new Date(utc[0]?.t ?? 0).toISOString()).toBe('2023-11-14T00:00:00.000Z');
  });

  it('a project is the rows tagged with it and those of sessions whose hooks reported its directory, on the side thread and on the store’s connection alike', async () => {
    const window = { since: t0 + 20 * 86_400_000, until: t0 + 21 * 86_400_000 };
    for (const q of [new AnalyticsQueries(store, new QueryProfiler()), new AnalyticsQueries(store, new QueryProfiler(), { sideThread: false })]) {
      expect((await q.totals({ ...window, project: '/proj' })).requests).toBe(2);
      expect((await q.breakdown({ ...window, project: '/proj' }, 'session_id')).map((r) => r.key).sort()).toEqual(['hooked', null]);
      expect((await q.totals({ ...window, project: '/elsewhere' })).requests).toBe(1);
      await q.close();
    }
  });

  it('sums of dollars come without float noise in totals, breakdowns and the chart series', async () => {
    const q = new AnalyticsQueries(store, new QueryProfiler());
    const window = { since: t0 + 10 * 86_400_000, until: t0 + 10 * 86_400_000 + 60_000 };
    expect((await q.totals(window)).cost).toMatchObject({ input: 0.3, total: 0.3 });
    expect((await q.breakdown(window, 'upstream_model'))[0]).toMatchObject({ key: 'gpt-4o', cost: 0.3 });
    expect((await q.series(window, 60_000)).reduce((a, b) => a + b.cost, 0)).toBe(0.3);
  });
});
