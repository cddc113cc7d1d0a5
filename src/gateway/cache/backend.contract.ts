import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CacheBackend, CachedResponse } from './types.js';
import { entrySize } from './types.js';

/** An entry with a body of `bytes` bytes. */
export function entry(bytes: number, model = 'claude-x', fields: Record<string, string> = { 'body.model': model }): CachedResponse {
  return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.alloc(bytes, 97), stream: false, model, usage: { input: 1, output: 2, cacheRead: 0, cacheWrite: 0 }, costUsd: 0.001, createdAt: Date.now(), fields };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The behaviour every cache backend must have (in-memory and Redis run the same suite):
 * get/set, byte bound with least-recently-used eviction, TTL expiry, clear, listing, counters.
 */
export function describeCacheBackend(name: string, make: (maxBytes: number) => Promise<CacheBackend>): void {
  describe(`cache backend: ${name}`, () => {
    let b: CacheBackend | undefined;
    const open = async (maxBytes: number) => (b = await make(maxBytes));
    beforeEach(() => {
      b = undefined;
    });
    afterEach(async () => {
      await b?.clear();
      await b?.close();
    });

    it('stores and returns an entry byte for byte', async () => {
      const c = await open(1_000_000);
      const e = entry(1000);
      e.body = Buffer.from('event: message_start\ndata: {"x":"é"}\n\n');
      e.stream = true;
      await c.set('k1', e, 60_000);
      const got = await c.get('k1');
      expect(got?.body.equals(e.body)).toBe(true);
      expect(got).toMatchObject({ status: 200, stream: true, model: 'claude-x', usage: e.usage, costUsd: 0.001 });
      expect(await c.get('nope')).toBeUndefined();
    });

    it('evicts the least recently used entries past the byte bound', async () => {
      const one = entrySize(entry(1000));
      const c = await open(one * 3 + 10);
      await c.set('a', entry(1000), 60_000);
      await c.set('b', entry(1000), 60_000);
      await c.set('c', entry(1000), 60_000);
      await sleep(5);
      expect(await c.get('a')).toBeDefined(); // a is now more recent than b
      await sleep(5);
      await c.set('d', entry(1000), 60_000);
      expect(await c.get('b')).toBeUndefined();
      expect(await c.get('a')).toBeDefined();
      expect(await c.get('c')).toBeDefined();
      expect(await c.get('d')).toBeDefined();
      const s = await c.size();
      expect(s.entries).toBe(3);
      expect(s.bytes).toBeLessThanOrEqual(one * 3 + 10);
    });

    it('never stores an entry larger than the whole bound', async () => {
      const c = await open(500);
      await c.set('big', entry(1000), 60_000);
      expect(await c.get('big')).toBeUndefined();
      expect((await c.size()).entries).toBe(0);
    });

    it('expires entries after their TTL', async () => {
      const c = await open(1_000_000);
      await c.set('t', entry(10), 150);
      expect(await c.get('t')).toBeDefined();
      await sleep(300);
      expect(await c.get('t')).toBeUndefined();
      expect((await c.size()).entries).toBe(0);
    });

    it('lists entries with hit counts, clears and reports what was freed', async () => {
      const c = await open(1_000_000);
      await c.set('x', entry(100, 'm1'), 60_000);
      await c.set('y', entry(200, 'm2'), 60_000);
      await c.get('y');
      await c.get('y');
      const l = await c.list(10);
      expect(l.find((e) => e.key === 'y')).toMatchObject({ model: 'm2', hits: 2, stream: false });
      expect(l.find((e) => e.key === 'x')?.hits).toBe(0);
      const r = await c.clear();
      expect(r.cleared).toBe(2);
      expect(r.freedBytes).toBe(entrySize(entry(100, 'm1')) + entrySize(entry(200, 'm2')));
      expect(await c.size()).toEqual({ entries: 0, bytes: 0 });
    });

    it('holds its byte bound and counts bytes exactly under concurrent stores', async () => {
      const one = entrySize(entry(1000));
      const c = await open(one * 5 + 10);
      await Promise.all(Array.from({ length: 60 }, (_x, i) => c.set(`k${i}`, entry(1000), 60_000)));
      // the same key stored twice at once counts once
      await Promise.all([c.set('same', entry(1000), 60_000), c.set('same', entry(1000), 60_000)]);
      const s = await c.size();
      expect(s.entries).toBeLessThanOrEqual(5);
      expect(s.bytes).toBe(s.entries * one);
      expect((await c.list(100)).length).toBe(s.entries);
    });

    it('counts hits and misses', async () => {
      const c = await open(1000);
      const before = await c.counters();
      c.count('hits');
      c.count('misses');
      c.count('misses');
      await sleep(20);
      const after = await c.counters();
      expect(after.hits - before.hits).toBe(1);
      expect(after.misses - before.misses).toBe(2);
    });
  });
}
