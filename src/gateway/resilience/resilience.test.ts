import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './breaker.js';
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
