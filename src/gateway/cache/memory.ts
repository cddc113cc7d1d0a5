import { LRUCache } from 'lru-cache';
import { entrySize } from './types.js';
import type { CacheBackend, CacheEntryInfo, CachedResponse } from './types.js';

interface Slot {
  v: CachedResponse;
  size: number;
  hits: number;
  lastHitAt: number | null;
}

/**
 * The in-process cache: lru-cache bounded by bytes (least recently used entries go first) with
 * a TTL per entry. Lost on restart, which the seeds document.
 */
export function createMemoryBackend(opts: { maxBytes: number }): CacheBackend {
  const lru = new LRUCache<string, Slot>({
    maxSize: Math.max(1, opts.maxBytes),
    sizeCalculation: (s) => Math.max(1, s.size),
    allowStale: false,
    updateAgeOnGet: false,
  });
  let hits = 0;
  let misses = 0;
  return {
    kind: 'memory',
    async get(key) {
      const s = lru.get(key);
      if (!s) return undefined;
      s.hits++;
      s.lastHitAt = Date.now();
      return s.v;
    },
    async set(key, v, ttlMs) {
      const size = entrySize(v);
      if (size > opts.maxBytes) return; // larger than the whole cache: not cached
      lru.set(key, { v, size, hits: 0, lastHitAt: null }, { ttl: ttlMs });
    },
    async clear() {
      const cleared = lru.size;
      const freedBytes = lru.calculatedSize;
      lru.clear();
      return { cleared, freedBytes };
    },
    async size() {
      lru.purgeStale();
      return { entries: lru.size, bytes: lru.calculatedSize };
    },
    async list(limit) {
      const out: CacheEntryInfo[] = [];
      for (const [key, s] of lru.entries()) {
        if (out.length >= limit) break;
        out.push({ key, model: s.v.model, size: s.size, hits: s.hits, stream: s.v.stream, createdAt: s.v.createdAt, lastHitAt: s.lastHitAt, fields: s.v.fields });
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
    },
  };
}
