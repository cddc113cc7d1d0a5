import { LRUCache } from 'lru-cache';
import { ownCopy, SlabPieces } from './slabs.js';
import { decodeEntry, packEntry } from './types.js';
import type { CacheBackend, CacheEntryInfo, CachedResponse } from './types.js';

interface Slot {
  /**
   * The entry encoded as one Buffer (see encodeEntry): few objects, real bytes counted. A piece
   * of a shared slab while the entry is in the first-time window, its own memory once it is hit.
   */
  packed: Buffer;
  /** Its decoded form, kept once the entry is hit (repeat hits skip the JSON parse); read-only. */
  decoded: CachedResponse | undefined;
  size: number;
  hits: number;
  lastHitAt: number | null;
}

/** The first-time window of a cache of `maxBytes` (see createMemoryBackend). */
export const firstTimeWindow = (maxBytes: number): number => Math.min(maxBytes, Math.max(8 * 1024 * 1024, Math.round(maxBytes / 64)), 32 * 1024 * 1024);

/**
 * The in-process cache: lru-cache bounded by bytes (least recently used entries go first) with
 * a TTL per entry. Lost on restart, which the seeds document.
 *
 * Sizes count real memory (the encoded entry plus ENTRY_OVERHEAD), so `--cache-size` bounds
 * what the process holds. Admission is segmented: every answer is cached at once, but answers
 * not yet read again share a first-time window (`firstTimeBytes`, default 1/64 of the bound
 * between 8 and 32 MB, oldest first out); an entry that is hit leaves the window and stays under
 * the plain LRU byte bound. Most gateway traffic is unique (each turn of a conversation carries
 * the whole conversation), so without the window a burst of one-time answers would fill the whole
 * bound with entries nobody reads, pushing out the ones that are repeated.
 */
interface FreshRecord {
  key: string;
  size: number;
}

export function createMemoryBackend(opts: { maxBytes: number; firstTimeBytes?: number }): CacheBackend {
  const window = opts.firstTimeBytes ?? firstTimeWindow(opts.maxBytes);
  const slabs = new SlabPieces(SlabPieces.sizeFor(window));
  /**
   * Entries never hit; `order` lists them oldest first. A record no longer in `fresh` (hit,
   * evicted, or replaced by a newer set of the same key) is skipped by identity.
   */
  const fresh = new Map<string, FreshRecord>();
  let order: FreshRecord[] = [];
  let head = 0;
  let freshBytes = 0;
  const unfresh = (key: string) => {
    const rec = fresh.get(key);
    if (rec === undefined) return;
    fresh.delete(key);
    freshBytes -= rec.size;
  };
  const lru = new LRUCache<string, Slot>({
    maxSize: Math.max(1, opts.maxBytes),
    sizeCalculation: (s) => Math.max(1, s.size),
    allowStale: false,
    updateAgeOnGet: false,
    dispose: (_s, key) => unfresh(key),
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
      if (s.decoded === undefined) {
        // read again: out of the window, so out of the slab it shares with one-time answers
        s.packed = ownCopy(s.packed);
        s.decoded = decodeEntry(s.packed);
      }
      unfresh(key);
      return s.decoded;
    },
    async set(key, v, ttlMs) {
      const { packed, size } = packEntry(v, slabs.alloc);
      if (size > opts.maxBytes) return; // larger than the whole cache: not cached
      lru.set(key, { packed, decoded: undefined, size, hits: 0, lastHitAt: null }, { ttl: ttlMs });
      if (!lru.has(key)) return;
      unfresh(key);
      const rec = { key, size };
      fresh.set(key, rec);
      order.push(rec);
      freshBytes += size;
      // The oldest answers nobody has read again leave first. (A queue rather than iterating the
      // Map from its start, which walks over every deleted slot until the Map is rehashed.)
      while (freshBytes > window && head < order.length) {
        const old = order[head++] as FreshRecord;
        if (fresh.get(old.key) !== old) continue; // hit, evicted or replaced since
        fresh.delete(old.key);
        freshBytes -= old.size;
        lru.delete(old.key);
      }
      if (head > 1024 && head * 2 > order.length) {
        order = order.slice(head);
        head = 0;
      } else if (order.length - head > 2 * fresh.size + 1024) {
        // Mostly names of entries hit or evicted since: rebuild from the live ones (Map order).
        order = [...fresh.values()];
        head = 0;
      }
    },
    async clear() {
      const cleared = lru.size;
      const freedBytes = lru.calculatedSize;
      lru.clear();
      fresh.clear();
      order = [];
      head = 0;
      freshBytes = 0;
      slabs.reset();
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
        const v = s.decoded ?? decodeEntry(s.packed);
        out.push({ key, model: v.model, size: s.size, hits: s.hits, stream: v.stream, createdAt: v.createdAt, lastHitAt: s.lastHitAt, fields: v.fields });
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
      fresh.clear();
      order = [];
      head = 0;
      freshBytes = 0;
      slabs.reset();
    },
  };
}
