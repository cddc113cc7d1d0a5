import { LRUCache } from 'lru-cache';
import { FirstTimeRing } from './first-time-ring.js';
import { decodeEntry, ENTRY_OVERHEAD, prepareEntry, writeEntry } from './types.js';
import type { CacheBackend, CacheEntryInfo, CachedResponse } from './types.js';

interface Slot {
  /**
   * The entry decoded (repeat hits skip the JSON parse); read-only. Its body is a view of the
   * entry's encoding (see encodeEntry), one Buffer of its own memory: few objects, real bytes counted.
   */
  decoded: CachedResponse;
  size: number;
  hits: number;
  lastHitAt: number | null;
  /** When it was last stored or read, in the backend's own order (see `enforceBound`). */
  recency: number;
}

/** The first-time window of a cache of `maxBytes` (see createMemoryBackend). */
export const firstTimeWindow = (maxBytes: number): number => Math.min(maxBytes, Math.max(8 * 1024 * 1024, Math.round(maxBytes / 64)), 32 * 1024 * 1024);

/**
 * The in-process cache: bounded by bytes (least recently used entries go first), a TTL per entry.
 * Lost on restart, which the seeds document.
 *
 * Sizes count real memory (the encoded entry plus ENTRY_OVERHEAD), so `--cache-size` bounds what
 * the process holds. Admission is segmented: every answer is cached at once, but answers not yet
 * read again wait in a first-time window (`firstTimeBytes`, default 1/64 of the bound between 8
 * and 32 MB, oldest first out: a FirstTimeRing); an answer that is hit moves into lru-cache, in
 * memory of its own, and stays under the plain LRU byte bound. Most gateway traffic is unique
 * (each turn of a conversation carries the whole conversation), so without the window a burst of
 * one-time answers would fill the whole bound with entries nobody reads, pushing out the ones
 * that are repeated. The byte bound covers both parts: past it, the least recently used entry
 * goes, whichever part holds it (an answer waiting in the window was last used when stored).
 */
export function createMemoryBackend(opts: { maxBytes: number; firstTimeBytes?: number }): CacheBackend {
  const window = opts.firstTimeBytes ?? firstTimeWindow(opts.maxBytes);
  // The ring's own bytes: records are smaller than their accounted size; the slack holds records
  // already read again (dead) until the ring's tail passes them.
  const ring = new FirstTimeRing(window, Math.ceil(window * 1.25) + 4096);
  const lru = new LRUCache<string, Slot>({
    maxSize: Math.max(1, opts.maxBytes),
    sizeCalculation: (s) => Math.max(1, s.size),
    allowStale: false,
    updateAgeOnGet: false,
  });
  let recency = 0;
  let hits = 0;
  let misses = 0;
  const total = () => lru.calculatedSize + ring.liveBytes;
  /** The byte bound over both parts: the least recently used entry goes, from whichever part holds it. */
  const enforceBound = () => {
    while (total() > opts.maxBytes) {
      const oldestFresh = ring.oldestRecency();
      const lruKey = lru.size > 0 ? (lru.rkeys().next().value as string | undefined) : undefined;
      if (lruKey === undefined) {
        if (oldestFresh === undefined) return;
        ring.evictOldest();
        continue;
      }
      const slot = lru.peek(lruKey);
      if (slot === undefined || oldestFresh === undefined || slot.recency < oldestFresh) lru.delete(lruKey);
      else ring.evictOldest();
    }
  };
  const purgeExpiredFresh = (now: number) => {
    const expired: string[] = [];
    for (const r of ring.entries()) if (r.expiresAt <= now) expired.push(r.key);
    for (const k of expired) ring.remove(k);
  };
  return {
    kind: 'memory',
    async get(key) {
      const s = lru.get(key);
      if (s) {
        s.hits++;
        s.lastHitAt = Date.now();
        s.recency = ++recency;
        return s.decoded;
      }
      const r = ring.get(key);
      if (!r) return undefined;
      const now = Date.now();
      ring.remove(key);
      if (r.expiresAt <= now) return undefined;
      // read again: out of the window, into memory of its own
      const packed = Buffer.allocUnsafeSlow(r.payload.length);
      r.payload.copy(packed);
      const decoded = decodeEntry(packed);
      lru.set(key, { decoded, size: r.size, hits: 1, lastHitAt: now, recency: ++recency }, { ttl: r.expiresAt - now });
      return decoded;
    },
    async set(key, v, ttlMs) {
      const p = prepareEntry(v);
      const size = p.bytes + ENTRY_OVERHEAD;
      if (size > opts.maxBytes) return; // larger than the whole cache: not cached
      lru.delete(key); // stored again: new in the window
      const target = ring.alloc(key, p.bytes, size, Date.now() + ttlMs, ++recency);
      if (target === undefined) {
        // larger than the window (an answer of 8 MB or more at the default size), which would push
        // it out at once: in memory of its own from the start, under the LRU bound like any other
        // (it was dropped without a word: /api/cache/debug told of a differing field, never of its size)
        const packed = Buffer.allocUnsafeSlow(p.bytes);
        writeEntry(packed, p, v);
        lru.set(key, { decoded: decodeEntry(packed), size, hits: 0, lastHitAt: null, recency }, { ttl: ttlMs });
      } else writeEntry(target, p, v);
      enforceBound();
    },
    async clear() {
      const cleared = lru.size + ring.size;
      const freedBytes = total();
      lru.clear();
      ring.clear();
      return { cleared, freedBytes };
    },
    async size() {
      lru.purgeStale();
      purgeExpiredFresh(Date.now());
      return { entries: lru.size + ring.size, bytes: total() };
    },
    async list(limit) {
      const out: CacheEntryInfo[] = [];
      for (const [key, s] of lru.entries()) {
        if (out.length >= limit) return out;
        const v = s.decoded;
        out.push({ key, model: v.model, size: s.size, hits: s.hits, stream: v.stream, createdAt: v.createdAt, lastHitAt: s.lastHitAt, fields: v.fields });
      }
      const now = Date.now();
      for (const r of ring.entries()) {
        if (out.length >= limit) break;
        if (r.expiresAt <= now) continue;
        const v = decodeEntry(r.payload);
        out.push({ key: r.key, model: v.model, size: r.size, hits: 0, stream: v.stream, createdAt: v.createdAt, lastHitAt: null, fields: v.fields });
      }
      return out;
    },
    async counters() {
      return { hits, misses };
    },
    count(kind) {
      if (kind === 'hits') hits++;
      else misses++;
    },
    async close() {
      lru.clear();
      ring.clear();
    },
  };
}
