import { describe, expect, it } from 'vitest';
import type { RequestRecord } from './record.js';
import { testRecord } from '../testing/record.js';
import { DebugRing } from './debug-ring.js';

const rec = (n: number, o: Partial<RequestRecord> = {}): RequestRecord =>
  testRecord({ id: `req-${n}`, ts: 1_700_000_000_000 + n, usage: { input: 1, output: 2, cacheRead: 0, cacheWrite: 0 }, latencyMs: n + 0.5, params: { max_tokens: n }, ...o });

describe('DebugRing', () => {
  it('lists what was recorded, newest first, with the fields the debug view shows', () => {
    const ring = new DebugRing(10);
    expect(ring.recent(5)).toEqual([]);
    ring.add(rec(1, { stream: true, cacheKey: 'k1', sessionId: 's1', errorType: 'upstream_error', status: 529, retries: 2 }));
    ring.add(rec(2, { cacheHit: true, provider: 'openai', route: 'gpt', model: 'gpt-5' }));
    expect(ring.recent(5)).toEqual([
      { id: 'req-2', ts: 1_700_000_000_002, model: 'gpt-5', provider: 'openai', route: 'gpt', status: 200, errorType: null, stream: false, cacheHit: true, cacheKey: null, params: { max_tokens: 2 }, latencyMs: 2.5, retries: 0, sessionId: null },
      { id: 'req-1', ts: 1_700_000_000_001, model: 'claude-sonnet-4-5', provider: 'anthropic', route: 'default', status: 529, errorType: 'upstream_error', stream: true, cacheHit: false, cacheKey: 'k1', params: { max_tokens: 1 }, latencyMs: 1.5, retries: 2, sessionId: 's1' },
    ]);
    expect(ring.recent(1).map((e) => e.id)).toEqual(['req-2']);
  });

  it('gives back UUID ids, cache keys, params and strings exactly as recorded, and other shapes as given', () => {
    const ring = new DebugRing(3);
    const id = '0f8e2b4c-9a1d-4e3f-8b7a-6c5d4e3f2a1b';
    const key = 'Ab_9-zYx0123456789abcd';
    ring.add(rec(1, { id, cacheKey: key, params: { temperature: 0.7, max_tokens: 64, top_k: 5, stream: true }, sessionId: 'sess-a' }));
    ring.add(rec(2, { id: 'not-a-uuid', cacheKey: 'short', params: { stop_sequences: ['\n\n'], max_tokens: 1 }, sessionId: 'sess-a' }));
    ring.add(rec(3, { id: id.toUpperCase(), params: { stream: false, max_completion_tokens: 9 } }));
    const [c, b, a] = ring.recent(3);
    expect(a).toMatchObject({ id, cacheKey: key, params: { temperature: 0.7, max_tokens: 64, top_k: 5, stream: true }, sessionId: 'sess-a' });
    expect(Object.keys(a?.params ?? {})).toEqual(['temperature', 'max_tokens', 'top_k', 'stream']);
    expect(b).toMatchObject({ id: 'not-a-uuid', cacheKey: 'short', params: { stop_sequences: ['\n\n'], max_tokens: 1 }, sessionId: 'sess-a' });
    expect(c).toMatchObject({ id: id.toUpperCase(), cacheKey: null, params: { max_completion_tokens: 9, stream: false }, sessionId: null });
    // the first slot, reused by a request without a cache key or params, shows none
    ring.add(rec(4, { id, cacheKey: null, params: {} }));
    expect(ring.recent(1)[0]).toMatchObject({ id, cacheKey: null, params: {} });
  });

  it('keeps only the last `size` requests once it wraps around', () => {
    const ring = new DebugRing(3);
    for (let n = 1; n <= 7; n++) ring.add(rec(n));
    expect(ring.recent(10).map((e) => e.id)).toEqual(['req-7', 'req-6', 'req-5']);
    expect(ring.recent(2).map((e) => e.params)).toEqual([{ max_tokens: 7 }, { max_tokens: 6 }]);
  });
});
