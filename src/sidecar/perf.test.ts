import { describe, expect, it } from 'vitest';
import { SlidingWindowStats } from './perf.js';

describe('SlidingWindowStats', () => {
  it('is all zero when idle', () => {
    expect(new SlidingWindowStats().snapshot()).toEqual({ avg_response_time_ms: 0, p99_response_time_ms: 0, requests_per_second: 0, samples: 0 });
  });

  it('computes avg, p99 and rate over the window only', () => {
    const now = 1_000_000;
    const s = new SlidingWindowStats(10_000, 1000, now - 60_000);
    s.record(500, now - 20_000); // outside the window
    for (let i = 0; i < 99; i++) s.record(1, now - 5000 + i * 50);
    s.record(100, now - 1);
    const snap = s.snapshot(now);
    expect(snap.samples).toBe(100);
    expect(snap.avg_response_time_ms).toBeCloseTo((99 + 100) / 100, 2);
    expect(snap.p99_response_time_ms).toBe(1);
    expect(snap.requests_per_second).toBeCloseTo(100 / 10, 0);
  });

  it('a burst after a quiet spell is a low rate over the window; a fresh start counts from its start', () => {
    const now = 2_000_000;
    const long = new SlidingWindowStats(60_000, 8192, now - 3_600_000);
    for (let i = 0; i < 30; i++) long.record(1, now - 500 + i * 10);
    expect(long.snapshot(now).requests_per_second).toBe(0.5);
    const fresh = new SlidingWindowStats(60_000, 8192, now - 5000);
    for (let i = 0; i < 100; i++) fresh.record(1, now - 5000 + i * 50);
    expect(fresh.snapshot(now).requests_per_second).toBe(20);
  });

  it('keeps only the most recent samples when the ring is full', () => {
    const s = new SlidingWindowStats(60_000, 10);
    const now = 5_000_000;
    for (let i = 0; i < 10; i++) s.record(1000, now - 100);
    for (let i = 0; i < 10; i++) s.record(2, now - 50);
    expect(s.snapshot(now).avg_response_time_ms).toBe(2);
  });
});
