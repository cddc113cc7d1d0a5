import { Redis } from 'ioredis';
import { decodeEntry as decode, packEntry } from './types.js';
import type { CacheBackend, CacheEntryInfo } from './types.js';

export interface RedisBackendOptions {
  url: string;
  maxBytes: number;
  /** Key prefix; instances sharing it share the cache (default `cco:cache`). */
  prefix?: string;
}

interface Meta {
  model: string;
  size: number;
  stream: boolean;
  createdAt: number;
  fields: Record<string, string>;
}

/**
 * The shared cache for several instances: entries in Redis with a TTL each (PX), and an LRU
 * index (sorted set by last use) plus a byte counter, so the byte bound evicts least recently
 * used entries first, as the in-memory backend does. Hit/miss counters are shared too.
 */
export function createRedisBackend(o: RedisBackendOptions): CacheBackend {
  const redis = new Redis(o.url, { maxRetriesPerRequest: 1, enableOfflineQueue: true, lazyConnect: false });
  redis.on('error', () => {
    // reported through failed commands (the request then misses the cache); ioredis reconnects
  });
  const p = o.prefix ?? 'cco:cache';
  const K = { lru: `${p}:lru`, sizes: `${p}:sizes`, bytes: `${p}:bytes`, meta: `${p}:meta`, hits: `${p}:hits`, lastHit: `${p}:lasthit`, statHits: `${p}:stat:hits`, statMisses: `${p}:stat:misses` };
  const ek = (key: string) => `${p}:e:${key}`;

  async function forget(keys: string[]): Promise<number> {
    if (!keys.length) return 0;
    const sizes = await redis.hmget(K.sizes, ...keys);
    const freed = sizes.reduce((a, s) => a + Number(s ?? 0), 0);
    await redis
      .multi()
      .del(...keys.map(ek))
      .zrem(K.lru, ...keys)
      .hdel(K.sizes, ...keys)
      .hdel(K.meta, ...keys)
      .hdel(K.hits, ...keys)
      .hdel(K.lastHit, ...keys)
      .decrby(K.bytes, freed)
      .exec();
    return freed;
  }

  /** Drops index entries whose value expired (Redis removed it on its TTL). */
  async function purgeExpired(): Promise<void> {
    const keys = await redis.zrange(K.lru, 0, -1);
    if (!keys.length) return;
    const pipe = redis.pipeline();
    for (const k of keys) pipe.exists(ek(k));
    const res = (await pipe.exec()) ?? [];
    const gone = keys.filter((_k, i) => Number(res[i]?.[1] ?? 0) === 0);
    await forget(gone);
  }

  async function evict(): Promise<void> {
    for (let guard = 0; guard < 10_000; guard++) {
      const total = Number((await redis.get(K.bytes)) ?? 0);
      if (total <= o.maxBytes) return;
      const oldest = await redis.zrange(K.lru, 0, 0);
      if (!oldest.length) {
        await redis.set(K.bytes, 0);
        return;
      }
      await forget(oldest);
    }
  }

  return {
    kind: 'redis',
    async get(key) {
      const b = await redis.getBuffer(ek(key));
      if (!b) {
        if ((await redis.hexists(K.sizes, key)) === 1) await forget([key]);
        return undefined;
      }
      const now = Date.now();
      await redis.multi().zadd(K.lru, now, key).hincrby(K.hits, key, 1).hset(K.lastHit, key, now).exec();
      return decode(b);
    },
    async set(key, v, ttlMs) {
      const { packed, size } = packEntry(v);
      if (size > o.maxBytes) return;
      const old = Number((await redis.hget(K.sizes, key)) ?? 0);
      const meta: Meta = { model: v.model, size, stream: v.stream, createdAt: v.createdAt, fields: v.fields };
      await redis
        .multi()
        .set(ek(key), packed, 'PX', Math.max(1, Math.round(ttlMs)))
        .hset(K.sizes, key, size)
        .incrby(K.bytes, size - old)
        .zadd(K.lru, Date.now(), key)
        .hset(K.meta, key, JSON.stringify(meta))
        .hset(K.hits, key, 0)
        .hdel(K.lastHit, key)
        .exec();
      await evict();
    },
    async clear() {
      const keys = await redis.zrange(K.lru, 0, -1);
      const freedBytes = Number((await redis.get(K.bytes)) ?? 0);
      const pipe = redis.multi();
      if (keys.length) pipe.del(...keys.map(ek));
      pipe.del(K.lru, K.sizes, K.bytes, K.meta, K.hits, K.lastHit);
      await pipe.exec();
      return { cleared: keys.length, freedBytes };
    },
    async size() {
      await purgeExpired();
      const [entries, bytes] = await Promise.all([redis.zcard(K.lru), redis.get(K.bytes)]);
      return { entries, bytes: Number(bytes ?? 0) };
    },
    async list(limit) {
      await purgeExpired();
      const [meta, hits, last] = await Promise.all([redis.hgetall(K.meta), redis.hgetall(K.hits), redis.hgetall(K.lastHit)]);
      const out: CacheEntryInfo[] = [];
      for (const [key, m] of Object.entries(meta)) {
        if (out.length >= limit) break;
        const x = JSON.parse(m) as Meta;
        out.push({ key, model: x.model, size: x.size, hits: Number(hits[key] ?? 0), stream: x.stream, createdAt: x.createdAt, lastHitAt: last[key] ? Number(last[key]) : null, fields: x.fields });
      }
      return out;
    },
    async counters() {
      const [h, m] = await redis.mget(K.statHits, K.statMisses);
      return { hits: Number(h ?? 0), misses: Number(m ?? 0) };
    },
    count(kind) {
      redis.incr(kind === 'hits' ? K.statHits : K.statMisses).catch(() => undefined);
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
