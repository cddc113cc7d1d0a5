import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore } from '../../testing/test-store.js';
import type { TestStore } from '../../testing/test-store.js';
import { startHarness } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

const url = process.env.DATABASE_URL;

if (!url) {
  describe('gateway analytics on PostgreSQL', () => {
    it.skip('skipped: DATABASE_URL is not set (CI sets it; e.g. postgres://postgres@127.0.0.1:5432/test)', () => undefined);
  });
} else {
  describe('gateway analytics on PostgreSQL', () => {
    let ts: TestStore;
    let h: Harness;
    beforeAll(async () => {
      ts = await openTestStore('postgres');
      h = await startHarness({ store: ts.store, cacheTtlSeconds: 3600 });
    });
    afterAll(async () => {
      await h?.close();
      await ts?.cleanup();
    });

    it('records rows and answers stats, chart data, route stats and maintenance', async () => {
      const body = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'pg' }] });
      h.fake.queue({ text: 'a', usage: { input_tokens: 100, output_tokens: 50 } });
      for (let i = 0; i < 2; i++) {
        const r = await fetch(`${h.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k', 'x-claude-code-session-id': 's1' }, body });
        await r.text();
      }
      const p = (await (await fetch(`${h.url}/api/project/stats`)).json()) as { calls: number; totals: { cacheHits: number; cacheHitRate: number; tokens: { input: number }; tokensServedFromCache: number } };
      expect(p.calls).toBe(2);
      expect(p.totals.cacheHits).toBe(1);
      expect(p.totals.cacheHitRate).toBe(0.5);
      // the provider handled the miss's tokens; the hit's were served from the cache
      expect(p.totals.tokens.input).toBe(100);
      expect(p.totals.tokensServedFromCache).toBe(150);
      const m = (await (await fetch(`${h.url}/api/machine/stats?hours=3`)).json()) as { chartData: { requestsOverTime: { requests: number }[] } };
      expect(m.chartData.requestsOverTime.reduce((a, b) => a + b.requests, 0)).toBe(2);
      const rs = await h.gateway.queries.routeStats({ since: 0, until: Date.now() + 1 });
      expect(rs[0]).toMatchObject({ route: '^claude-', requests: 2, cache_hits: 1 });
      expect((await fetch(`${h.url}/api/database/analyze`, { method: 'POST' })).status).toBe(200);
      expect((await fetch(`${h.url}/api/database/rebuild-indexes`, { method: 'POST' })).status).toBe(200);
      const a = (await (await fetch(`${h.url}/api/maintenance/archive-old-analytics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"older_than_days": 0}' })).json()) as { archived: number };
      expect(a.archived).toBe(2);
    });
  });
}
