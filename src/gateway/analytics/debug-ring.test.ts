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

  it('keeps only the last `size` requests once it wraps around', () => {
    const ring = new DebugRing(3);
    for (let n = 1; n <= 7; n++) ring.add(rec(n));
    expect(ring.recent(10).map((e) => e.id)).toEqual(['req-7', 'req-6', 'req-5']);
    expect(ring.recent(2).map((e) => e.params)).toEqual([{ max_tokens: 7 }, { max_tokens: 6 }]);
  });
});
