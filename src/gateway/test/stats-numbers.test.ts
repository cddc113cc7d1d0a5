import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zeroCost } from '../analytics/pricing.js';
import type { RequestRecord } from '../analytics/record.js';
import { testRecord } from '../testing/record.js';
import { startHarness } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({});
});
afterAll(async () => {
  await h?.close();
});

const cost = (total: number) => ({ ...zeroCost(), input: total, total, priced: true });
const usage = (input: number, output: number) => ({ input, output, cacheRead: 0, cacheWrite: 0 });
const get = async <T>(path: string): Promise<T> => (await (await fetch(`${h.url}${path}`)).json()) as T;

interface Totals {
  requests: number;
  cacheHits: number;
  cacheHitRate: number;
  tokens: { input: number; output: number };
  tokensServedFromCache: number;
  cost: { total: number };
}

describe('the numbers of /api/project/stats and /api/machine/stats', () => {
  it('cache hit rate over cacheable requests, tokens of providers only, cost by the model that answered, project filter and archived rows', async () => {
    const now = Date.now();
    const rows: Partial<RequestRecord>[] = [
      // a miss answered by a fallback (requested opus, gpt-4o-mini answered and was paid)
      { id: 'miss', model: 'claude-opus-4-1', upstreamModel: 'gpt-4o-mini', provider: 'openai', cacheKey: 'k1', usage: usage(100, 50), cost: cost(0.01), project: '/proj/a' },
      // its cache hit: no provider tokens, nothing paid, 0.01 saved
      { id: 'hit', model: 'claude-opus-4-1', upstreamModel: 'gpt-4o-mini', provider: 'openai', cacheKey: 'k1', cacheHit: true, usage: usage(100, 50), cost: zeroCost(), costSaved: 0.01, project: '/proj/a' },
      // not cacheable: count_tokens, a bypass
      { id: 'count', endpoint: 'count_tokens', cacheKey: null, usage: usage(0, 0), cost: zeroCost(), project: '/proj/b' },
      { id: 'bypass', cacheKey: null, usage: usage(10, 5), cost: cost(0.002), project: '/proj/b' },
    ];
    for (const r of rows) h.gateway.writer.add(testRecord({ ts: now, ...r }));
    await h.gateway.writer.flush();

    const p = await get<{ totals: Totals; tokens: number; byModel: { key: string; cost: number; inputTokens: number }[] }>('/api/project/stats');
    expect(p.totals).toMatchObject({ requests: 4, cacheHits: 1, cacheHitRate: 0.5, tokens: { input: 110, output: 55 }, tokensServedFromCache: 150 });
    expect(p.tokens).toBe(165);
    expect(p.byModel.find((m) => m.key === 'gpt-4o-mini')).toMatchObject({ cost: 0.01, inputTokens: 100 });
    expect(p.byModel.map((m) => m.key)).not.toContain('claude-opus-4-1');

    const m = await get<{ totals: Totals; chartData: { cacheHitRateOverTime: { hitRate: number }[]; tokensOverTime: { tokens: number }[]; modelDistribution: { model: string }[] } }>('/api/machine/stats?hours=1');
    expect(m.totals.cacheHitRate).toBe(0.5);
    expect(Math.max(...m.chartData.cacheHitRateOverTime.map((b) => b.hitRate))).toBe(0.5);
    expect(m.chartData.tokensOverTime.reduce((a, b) => a + b.tokens, 0)).toBe(165);
    expect(m.chartData.modelDistribution.map((x) => x.model)).toContain('gpt-4o-mini');

    // project= narrows the machine view too (it was accepted and ignored)
    const a = await get<{ project: string; totals: Totals }>('/api/machine/stats?hours=1&project=%2Fproj%2Fa');
    expect(a.project).toBe('/proj/a');
    expect(a.totals).toMatchObject({ requests: 2, cacheHits: 1 });
    expect(a.totals.cost.total).toBeCloseTo(0.01, 9);

    // archived rows still count all time
    const before = await get<{ allTime: { requests: number; cost: number } }>('/api/machine/stats');
    await fetch(`${h.url}/api/maintenance/archive-old-analytics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"older_than_days": 0}' });
    const after = await get<{ allTime: { requests: number; cost: number; archivedRequests: number } }>('/api/machine/stats');
    expect(after.allTime).toMatchObject({ requests: before.allTime.requests, archivedRequests: 4 });
    expect(after.allTime.cost).toBeCloseTo(before.allTime.cost, 9);
  });
});

describe('capped distributions', () => {
  it('put what is past the cap in one "(other)" entry, so that a distribution adds up to the totals', async () => {
    const now = Date.now();
    for (let i = 0; i < 23; i++) h.gateway.writer.add(testRecord({ id: `m${i}`, ts: now, upstreamModel: `model-${i}`, cacheKey: null, cost: cost(0.001 * (i + 1)), usage: usage(1, 1) }));
    await h.gateway.writer.flush();
    const m = await get<{ totals: Totals; chartData: { modelDistribution: { model: string; requests: number; cost: number }[] } }>('/api/machine/stats?hours=1');
    const dist = m.chartData.modelDistribution;
    expect(dist).toHaveLength(21);
    expect(dist.at(-1)).toMatchObject({ model: '(other)', requests: 3 });
    expect(dist.reduce((a, x) => a + x.requests, 0)).toBe(m.totals.requests);
    expect(dist.reduce((a, x) => a + x.cost, 0)).toBeCloseTo(m.totals.cost.total, 9);
  });
});
