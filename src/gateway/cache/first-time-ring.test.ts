import { describe, expect, it } from 'vitest';
import { FirstTimeRing } from './first-time-ring.js';

const put = (r: FirstTimeRing, key: string, payload: Buffer, size = payload.length + 100, recency = 0, expiresAt = Infinity): boolean => {
  const target = r.alloc(key, payload.length, size, expiresAt, recency);
  if (!target) return false;
  payload.copy(target);
  return true;
};

describe('FirstTimeRing', () => {
  it('gives back each record as written: payload, size, expiry, recency, any key', () => {
    const r = new FirstTimeRing(10_000, 12_000);
    put(r, 'clé-é', Buffer.from('payload one'), 200, 7, 1234.5);
    put(r, 'k2', Buffer.from([0, 1, 2, 3, 4]), 150, 8);
    expect(r.get('clé-é')).toMatchObject({ key: 'clé-é', size: 200, recency: 7, expiresAt: 1234.5 });
    expect(r.get('clé-é')?.payload.toString()).toBe('payload one');
    expect([...(r.get('k2')?.payload ?? [])]).toEqual([0, 1, 2, 3, 4]);
    expect(r.get('nope')).toBeUndefined();
    expect(r.liveBytes).toBe(350);
    expect(r.size).toBe(2);
  });

  it('keeps the accounted bytes of its live records within the window, the oldest out first', () => {
    const r = new FirstTimeRing(1000, 10_000);
    for (const k of ['a', 'b', 'c']) put(r, k, Buffer.alloc(10, k), 300);
    put(r, 'd', Buffer.alloc(10, 'd'), 300); // 1,200 > 1,000: a goes
    expect(r.has('a')).toBe(false);
    expect(['b', 'c', 'd'].map((k) => r.get(k)?.payload.toString())).toEqual(['b'.repeat(10), 'c'.repeat(10), 'd'.repeat(10)]);
    expect(r.liveBytes).toBe(900);
  });

  it('skips records already removed or replaced when evicting, and counts only live ones', () => {
    const r = new FirstTimeRing(1000, 10_000);
    put(r, 'a', Buffer.from('a1'), 300, 1);
    put(r, 'b', Buffer.from('b'), 300, 2);
    put(r, 'a', Buffer.from('a2'), 300, 3); // the first record of a is dead now
    put(r, 'c', Buffer.from('c'), 300, 4);
    expect(r.liveBytes).toBe(900);
    put(r, 'd', Buffer.from('d'), 300, 5); // the oldest live one is b, not the dead a1
    expect(r.has('b')).toBe(false);
    expect(r.get('a')?.payload.toString()).toBe('a2');
    r.remove('c');
    expect(r.oldestRecency()).toBe(3);
    r.evictOldest();
    expect(r.has('a')).toBe(false);
    expect(r.oldestRecency()).toBe(5);
    expect(r.size).toBe(1);
  });

  it('refuses a record larger than the window or the ring', () => {
    const r = new FirstTimeRing(1000, 500);
    expect(put(r, 'big', Buffer.alloc(10), 1001)).toBe(false);
    expect(put(r, 'long', Buffer.alloc(600), 900)).toBe(false);
    expect(r.size).toBe(0);
  });

  it('wraps around its bytes without ever handing out a corrupted record (random sizes against a model)', () => {
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const bound = 20_000;
    const r = new FirstTimeRing(bound, 16_384);
    const model = new Map<string, { payload: Buffer; size: number }>();
    for (let i = 0; i < 20_000; i++) {
      const op = rand(10);
      const key = `k${rand(300)}`;
      if (op < 7) {
        const payload = Buffer.alloc(1 + rand(1500), i % 251);
        const size = payload.length + rand(400);
        put(r, key, payload, size, i);
        model.set(key, { payload, size });
      } else if (op < 9) {
        r.remove(key);
        model.delete(key);
      } else r.evictOldest();
      if (i % 50 === 0 || i > 19_900) {
        // every live record is one the model has, byte for byte; the sizes add up; the bound holds
        let live = 0;
        for (const rec of r.entries()) {
          const m = model.get(rec.key);
          expect(m && rec.payload.equals(m.payload) && rec.size === m.size).toBe(true);
          live += rec.size;
        }
        expect(r.liveBytes).toBe(live);
        expect(live).toBeLessThanOrEqual(bound);
      }
      // the record just stored is always there
      if (op < 7) expect(r.get(key)?.payload.equals(model.get(key)?.payload as Buffer)).toBe(true);
    }
  });

  it('clear forgets everything and starts over', () => {
    const r = new FirstTimeRing(1000, 2000);
    put(r, 'a', Buffer.from('a'));
    r.clear();
    expect(r.size).toBe(0);
    expect(r.liveBytes).toBe(0);
    expect(r.oldestRecency()).toBeUndefined();
    put(r, 'b', Buffer.from('b'));
    expect(r.get('b')?.payload.toString()).toBe('b');
  });
});
