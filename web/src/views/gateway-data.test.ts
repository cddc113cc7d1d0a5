import { describe, expect, it } from 'vitest';
import { readRequest } from '../lib/model';
import type { GwRequest } from '../lib/model';
import { bucketize, modelRows } from './gateway-data';

/** The ring the dashboard keeps, over a plain array. */
const ring = (items: GwRequest[]) => ({ length: items.length, at: (i: number) => items[i] }) as unknown as Parameters<typeof bucketize>[0];

describe('dashboard live series (bucketize)', () => {
  it('cache hit rate over cacheable requests and tokens of providers only, as the analytics endpoints count them', () => {
    const now = 1_800_000_000_000;
    const msg = (o: Record<string, unknown>) => readRequest({ model: 'claude-sonnet-4-5', ts: now - 1000, tokens: { input: 100, output: 50 }, ...o }, now);
    const reqs = [msg({ cacheHit: false, cacheable: true }), msg({ cacheHit: true, cacheable: true }), msg({ cacheHit: false, cacheable: false, tokens: { input: 7, output: 0 } })];
    const s = bucketize(ring(reqs), now);
    const last = (a: ArrayLike<number | null | undefined> | undefined) => Array.from(a ?? []).filter((v) => v !== null && v !== undefined && v !== 0).at(-1);
    expect(last(s.cacheRate[1])).toBe(50);
    expect(last(s.tokens[1])).toBe(107);
    expect(last(s.tokens[2])).toBe(50);
  });
});

describe('dashboard per-model table (modelRows)', () => {
  it('reads mean latency and errors from /api/project/stats byModel', () => {
    const project = { byModel: [{ key: 'claude-haiku-4-5', requests: 4, inputTokens: 10, outputTokens: 5, cost: 0.01, cacheHits: 1, errors: 1, avgLatencyMs: 90 }] };
    const { rows, source } = modelRows(project, ring([]));
    expect(source).toBe('analytics');
    expect(rows[0]).toMatchObject({ model: 'claude-haiku-4-5', requests: 4, avgLatency: 90, errors: 1, cacheHits: 1 });
  });
});
