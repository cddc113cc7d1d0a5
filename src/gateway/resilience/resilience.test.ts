import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './breaker.js';
import type { BreakerTransition } from './breaker.js';
import { breakerHealth, logBreakerTransition } from './breaker-report.js';
import { ProviderPool, worstBreakerState } from './providers.js';
import { ConcurrencyQueue, QueueError } from './queue.js';
import { backoffDelay, parseRetryAfter } from './retry.js';

describe('circuit breaker', () => {
  it('closed → open after N failures → half-open admits one probe → closed or open again', () => {
    let now = 0;
    const b = new CircuitBreaker('p', { failureThreshold: 2, openMs: 100, now: () => now });
    expect(b.admit()).toBe('pass');
    b.failure();
    expect(b.state).toBe('closed');
    b.failure();
    expect(b.state).toBe('open');
    expect(b.admit()).toBeUndefined();
    now = 100;
    expect(b.state).toBe('half_open');
    expect(b.admit()).toBe('probe');
    expect(b.admit()).toBeUndefined(); // one probe at a time
    b.failure();
    expect(b.state).toBe('open');
    now = 250;
    expect(b.admit()).toBe('probe');
    b.success();
    expect(b.state).toBe('closed');
    expect(b.opens).toBe(2);
  });

  it('only the probe frees the half-open slot: a request admitted before the circuit opened does not', () => {
    let now = 0;
    const b = new CircuitBreaker('p', { failureThreshold: 1, openMs: 100, now: () => now });
    // admitted while closed, then waiting in the provider's queue
    const early = b.admit();
    expect(early).toBe('pass');
    b.failure();
    now = 100;
    const probe = b.admit();
    expect(probe).toBe('probe');
    // the early request's client goes away: the probe is still out
    b.release(early as 'pass');
    expect(b.admit()).toBeUndefined();
    // the probe's own client goes away: the next request probes
    b.release(probe as 'probe');
    expect(b.admit()).toBe('probe');
  });

  it('a success resets the failure count', () => {
    const b = new CircuitBreaker('p', { failureThreshold: 2, openMs: 100 });
    b.failure();
    b.success();
    b.failure();
    expect(b.state).toBe('closed');
  });
});

describe('circuit breaker transitions', () => {
  /** A breaker on a fake clock whose transitions are logged into `lines` as the gateway logs them. */
  function watched(failureThreshold: number, openMs = 30_000) {
    let now = 0;
    const lines: { level: 'warn' | 'info'; obj: Record<string, unknown>; msg: string }[] = [];
    const seen: BreakerTransition[] = [];
    const log = { warn: (obj: object, msg: string) => lines.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }), info: (obj: object, msg: string) => lines.push({ level: 'info', obj: obj as Record<string, unknown>, msg }) };
    const b = new CircuitBreaker('anthropic', { failureThreshold, openMs, now: () => now });
    b.watch((t) => (seen.push(t), logBreakerTransition(log, t)));
    return { b, lines, seen, tick: (ms: number) => (now += ms) };
  }

  it('logs the opening once (warn, with failures and retry), the probe and the closing (info)', () => {
    const w = watched(2);
    const { b } = w;
    b.admit();
    b.admit();
    b.admit();
    b.failure();
    expect(w.lines).toEqual([]);
    b.failure();
    // a third request admitted before it opened fails too: still open, no second line
    b.failure();
    expect(w.lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual(['LLM circuit breaker open: anthropic, 2 failures, retry in 30 s']);
    expect(w.lines[0]?.obj).toMatchObject({ provider: 'anthropic', llm_circuit_breaker_state: 'open', failures: 2, retry_in_s: 30 });
    expect(b.admit()).toBeUndefined();
    expect(w.lines).toHaveLength(1);
    w.tick(30_000);
    expect(b.admit()).toBe('probe');
    expect(w.lines[1]).toMatchObject({ level: 'info', msg: 'LLM circuit breaker half-open: anthropic, one probe request goes through' });
    b.failure();
    expect(w.lines[2]).toMatchObject({ level: 'warn', obj: { from: 'half_open', llm_circuit_breaker_state: 'open' } });
    expect(w.lines[2]?.msg).toMatch(/^LLM circuit breaker open: anthropic, \d+ failures, retry in 30 s$/);
    w.tick(30_000);
    expect(b.admit()).toBe('probe');
    b.success();
    expect(w.lines.slice(3).map((l) => [l.level, l.msg])).toEqual([
      ['info', 'LLM circuit breaker half-open: anthropic, one probe request goes through'],
      ['info', 'LLM circuit breaker closed: anthropic, a request succeeded'],
    ]);
    // successes while closed say nothing
    b.success();
    expect(w.lines).toHaveLength(5);
  });

  it('a reset by hand logs the closing of an open breaker only', () => {
    const w = watched(1);
    const { b } = w;
    b.reset();
    expect(w.seen).toEqual([]);
    b.failure();
    b.reset();
    expect(w.seen.map((t) => [t.from, t.to, t.closedBy])).toEqual([
      ['closed', 'open', undefined],
      ['open', 'closed', 'reset'],
    ]);
    expect(w.lines[1]?.msg).toBe('LLM circuit breaker closed: anthropic, reset by hand');
  });

  it('the pool tells of breakers created before and after the listener', () => {
    const pool = new ProviderPool({ failureThreshold: 1, openMs: 1000 });
    const limits = { maxConcurrency: 1, maxQueue: 1 };
    const early = pool.get('early', limits).breaker;
    const seen: string[] = [];
    pool.onBreakerTransition((t) => seen.push(`${t.provider}:${t.to}`));
    early.failure();
    pool.get('late', limits).breaker.failure();
    expect(seen).toEqual(['early:open', 'late:open']);
    // "llm" closes every provider's breaker
    expect(pool.resetBreakers('llm')).toEqual(['early', 'late']);
    expect(pool.resetBreakers('LLM')).toEqual(['early', 'late']);
    expect(seen.slice(2)).toEqual(['early:closed', 'late:closed']);
    expect(pool.resetBreakers('nope')).toEqual([]);
    expect(pool.resetBreakers('early')).toEqual(['early']);
  });

  it('health: degraded while a breaker is open (naming it and its retry), ok when half-open or closed', () => {
    expect(worstBreakerState([])).toBe('closed');
    expect(worstBreakerState(['closed', 'half_open'])).toBe('half_open');
    expect(worstBreakerState(['half_open', 'open', 'closed'])).toBe('open');
    expect(breakerHealth({})).toEqual({ status: 'ok', llm_circuit_breaker_state: 'closed', openCircuits: [] });
    expect(breakerHealth({ a: { state: 'half_open', consecutiveFailures: 5, retryInMs: 0 } })).toMatchObject({ status: 'ok', llm_circuit_breaker_state: 'half_open' });
    const h = breakerHealth({ anthropic: { state: 'open', consecutiveFailures: 5, retryInMs: 27_400 }, openai: { state: 'closed', consecutiveFailures: 0, retryInMs: 0 } });
    expect(h).toMatchObject({ status: 'degraded', llm_circuit_breaker_state: 'open', openCircuits: ['anthropic'], serving: true });
    expect(h.error).toMatch(/LLM circuit breaker open for anthropic \(5 failures, retry in 28 s\)/);
    expect(h.error).toMatch(/"service":"llm"/);
  });
});

describe('concurrency queue', () => {
  it('limits concurrency, serves waiters in order, bounds the queue and honours aborts', async () => {
    const q = new ConcurrencyQueue(1, 2);
    const r1 = await q.acquire();
    const order: number[] = [];
    const p2 = q.acquire().then((r) => (order.push(2), r));
    const ac = new AbortController();
    const p3 = q.acquire(ac.signal);
    await expect(q.acquire()).rejects.toMatchObject({ code: 'queue_full' });
    expect(q.depth).toBe(2);
    ac.abort();
    await expect(p3).rejects.toBeInstanceOf(QueueError);
    expect(q.depth).toBe(1);
    r1();
    const r2 = await p2;
    expect(order).toEqual([2]);
    expect(q.inFlight).toBe(1);
    r2();
    r2(); // releasing twice is harmless
    expect(q.inFlight).toBe(0);
  });
});

describe('retry timing', () => {
  it('parses retry-after seconds, HTTP dates and retry-after-ms', () => {
    expect(parseRetryAfter({ 'retry-after': '2' })).toBe(2000);
    expect(parseRetryAfter({ 'retry-after': '0.5' })).toBe(500);
    expect(parseRetryAfter({ 'retry-after-ms': '150' })).toBe(150);
    expect(parseRetryAfter({ 'retry-after': new Date(10_000).toUTCString() }, 7_000)).toBe(3000);
    expect(parseRetryAfter({})).toBeUndefined();
  });

  it('backs off exponentially with jitter, honours retry-after as a floor, gives up past the cap', () => {
    const o = { baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000 };
    expect(backoffDelay(1, { ...o, random: () => 0 })).toBe(50);
    expect(backoffDelay(1, { ...o, random: () => 1 })).toBe(100);
    expect(backoffDelay(3, { ...o, random: () => 1 })).toBe(400);
    expect(backoffDelay(10, { ...o, random: () => 1 })).toBe(1000);
    expect(backoffDelay(1, { ...o, random: () => 0 }, 2000)).toBe(2000);
    expect(backoffDelay(1, o, 6000)).toBeUndefined();
  });
});
