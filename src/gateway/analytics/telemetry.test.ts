import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { ResponseCache } from '../cache/response-cache.js';
import type { ActiveRequests } from '../proxy/active.js';
import { ProviderPool } from '../resilience/providers.js';
import { zeroCost } from './pricing.js';
import type { RequestRecord } from './record.js';
import { testRecord } from '../testing/record.js';
import { MAX_MODEL_LABELS, Telemetry } from './telemetry.js';
import { openaiUsage } from '../proxy/usage.js';
import type { AnalyticsWriter } from './writer.js';

const rec = (o: Partial<RequestRecord> = {}): RequestRecord =>
  testRecord({ usage: { input: 10, output: 20, cacheRead: 0, cacheWrite: 0 }, cost: { ...zeroCost(), total: 0.25, priced: true }, cacheKey: 'k', ...o });

function telemetry(extra: { onUnpriced?(model: string): void } = {}) {
  const registry = new Registry();
  const rows: RequestRecord[] = [];
  const t = new Telemetry({
    registry,
    hub: undefined,
    writer: { add: (r: RequestRecord) => rows.push(r), queued: 0 } as unknown as AnalyticsWriter,
    providers: () => new ProviderPool({ failureThreshold: 5, openMs: 1000 }),
    cache: () => ({ backend: { size: async () => ({ entries: 0, bytes: 0 }) } }) as unknown as ResponseCache,
    active: () => ({ count: 0 }) as ActiveRequests,
    ...extra,
  });
  /** name{labels} → value, as /metrics shows them. */
  const values = async (name: string) => {
    const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name) as { values: { labels: Record<string, string | number>; value: number }[] } | undefined;
    return Object.fromEntries((m?.values ?? []).map((v) => [JSON.stringify(v.labels), v.value]));
  };
  return { t, rows, registry, values };
}

describe('Telemetry', () => {
  it('counts requests of a model without a price (shown as $0) and tells once per model', async () => {
    const told: string[] = [];
    const { t, values } = telemetry({ onUnpriced: (m) => told.push(m) });
    for (let i = 0; i < 3; i++) t.record(rec({ upstreamModel: 'mystery-model-1', cost: zeroCost(), usage: { input: 1000, output: 1000, cacheRead: 0, cacheWrite: 0 } }));
    t.record(rec({ upstreamModel: 'mystery-model-1', cacheHit: true, cost: zeroCost() }));
    expect(await values('gateway_unpriced_requests_total')).toEqual({ '{"model":"mystery-model-1"}': 3 });
    expect(told).toEqual(['mystery-model-1']);
  });

  it('counts every request in /metrics with its labels, tokens, cost, retries and cache result', async () => {
    const { t, rows, values } = telemetry();
    t.record(rec());
    t.record(rec({ retries: 2, usage: { input: 1, output: 2, cacheRead: 3, cacheWrite: 4 } }));
    // retries count for the provider retried (a fallback to another provider answered in the end)
    t.retried('anthropic');
    t.retried('anthropic');
    t.retried('openai');
    t.record(rec({ cacheHit: true, costSaved: 0.5, cost: zeroCost(), usage: { input: 10, output: 20, cacheRead: 0, cacheWrite: 0 } }));
    t.record(rec({ status: 529, provider: 'openai', upstreamModel: 'gpt-5', cacheKey: null, usage: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 }, cost: zeroCost() }));
    expect(rows).toHaveLength(4);
    expect(await values('gateway_requests_total')).toEqual({
      '{"provider":"anthropic","model":"claude-sonnet-4-5","status":"200","cache":"miss"}': 2,
      '{"provider":"anthropic","model":"claude-sonnet-4-5","status":"200","cache":"hit"}': 1,
      '{"provider":"openai","model":"gpt-5","status":"529","cache":"bypass"}': 1,
    });
    // the cache hit's tokens are the original answer's: no provider saw them again
    expect(await values('gateway_tokens_total')).toEqual({
      '{"provider":"anthropic","model":"claude-sonnet-4-5","kind":"input"}': 11,
      '{"provider":"anthropic","model":"claude-sonnet-4-5","kind":"output"}': 22,
      '{"provider":"anthropic","model":"claude-sonnet-4-5","kind":"cache_read"}': 3,
      '{"provider":"anthropic","model":"claude-sonnet-4-5","kind":"cache_write"}': 4,
    });
    expect(await values('gateway_cost_usd_total')).toEqual({ '{"provider":"anthropic","model":"claude-sonnet-4-5"}': 0.5 });
    expect(await values('gateway_retries_total')).toEqual({ '{"provider":"anthropic"}': 2, '{"provider":"openai"}': 1 });
    expect(await values('gateway_cache_hits_total')).toEqual({ '{}': 1 });
    expect(await values('gateway_cache_misses_total')).toEqual({ '{}': 2 });
    expect(await values('gateway_cost_saved_usd_total')).toEqual({ '{}': 0.5 });
    // Read again with more traffic in between: the counts add up, nothing is counted twice.
    t.record(rec());
    expect((await values('gateway_requests_total'))['{"provider":"anthropic","model":"claude-sonnet-4-5","status":"200","cache":"miss"}']).toBe(3);
    expect((await values('gateway_cache_misses_total'))['{}']).toBe(3);
    const latency = (await values('gateway_processing_time_seconds'))['{"le":"+Inf","provider":"anthropic","cache":"miss"}'];
    expect(latency).toBe(3);
  });

  it('a negative count from a provider never reaches a counter; /metrics keeps answering', async () => {
    const { t, values } = telemetry();
    const u = openaiUsage({ prompt_tokens: 5, completion_tokens: -1 });
    expect(u).toMatchObject({ input: 5, output: 0 });
    t.record(rec({ ...(u ? { usage: u } : {}) }));
    // a bad value that slipped through is dropped with its read, not kept to fail every later one
    t.record(rec({ usage: { input: 1, output: -3, cacheRead: 0, cacheWrite: 0 } }));
    expect((await values('gateway_tokens_total'))['{"provider":"anthropic","model":"claude-sonnet-4-5","kind":"input"}']).toBe(6);
    t.record(rec());
    expect((await values('gateway_requests_total'))['{"provider":"anthropic","model":"claude-sonnet-4-5","status":"200","cache":"miss"}']).toBe(3);
  });

  it('a client sending ever-new model names: /metrics keeps MAX_MODEL_LABELS of them, the rest as other, every request counted', async () => {
    const { t, values } = telemetry();
    for (let i = 0; i < 1500; i++) t.record(rec({ upstreamModel: `model-${i}` }));
    const series = await values('gateway_requests_total');
    expect(Object.keys(series)).toHaveLength(MAX_MODEL_LABELS + 1);
    expect(Object.values(series).reduce((a, b) => a + b, 0)).toBe(1500);
    expect(series[JSON.stringify({ provider: 'anthropic', model: 'other', status: '200', cache: 'miss' })]).toBe(1500 - MAX_MODEL_LABELS);
    // a model seen before the cap keeps its own series
    t.record(rec({ upstreamModel: 'model-3' }));
    expect((await values('gateway_requests_total'))[JSON.stringify({ provider: 'anthropic', model: 'model-3', status: '200', cache: 'miss' })]).toBe(2);
  });

  it('a model name with control characters or of 5,000 characters is labelled other (no NUL in the /metrics text)', async () => {
    const { t, registry } = telemetry();
    t.record(rec({ upstreamModel: 'claude-\u0000x' }));
    t.record(rec({ upstreamModel: 'x'.repeat(5000) }));
    t.record(rec({ upstreamModel: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' }));
    t.record(rec({ upstreamModel: 'openrouter/anthropic/claude-3.5-sonnet@latest' }));
    const text = await registry.metrics();
    expect(text).not.toContain('\u0000');
    expect(text).not.toContain('x'.repeat(101));
    expect(text).toContain('model="other"');
    expect(text).toContain('model="us.anthropic.claude-sonnet-4-5-20250929-v1:0"');
    expect(text).toContain('model="openrouter/anthropic/claude-3.5-sonnet@latest"');
  });
});
