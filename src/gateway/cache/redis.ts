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
export function createRedisBackend(o: RedisBackendOptions): CacheBackend & { ready(): Promise<void> } {
  // A cache must never hold a request up: a command waits at most 250 ms (a stuck Redis stalled
  // every cacheable request for good), and while the link is down lookups and stores are skipped
  // at once (each waited for a reconnect, up to 2 s): the request is then a miss.
  const redis = new Redis(o.url, { maxRetriesPerRequest: 1, enableOfflineQueue: true, commandTimeout: 250, socketTimeout: 5000, lazyConnect: false });
  const up = (): boolean => redis.status === 'ready';
  // Writes, removals and eviction as single scripts: done in several round trips, concurrent
  // requests evicted the same oldest entry and each subtracted its size, so the byte counter
  // drifted and the bound was not held (2.5x over with 80 requests at once).
  redis.defineCommand('ccoCacheSet', { numberOfKeys: 7, lua: SET_SCRIPT });
  redis.defineCommand('ccoCacheForget', { numberOfKeys: 6, lua: FORGET_SCRIPT });
  const scripts = redis as unknown as {
    ccoCacheSet(...args: (string | number | Buffer)[]): Promise<number>;
    ccoCacheForget(...args: (string | number)[]): Promise<number>;
  };
  redis.on('error', () => {
    // reported through failed commands (the request then misses the cache); ioredis reconnects
  });
  const p = o.prefix ?? 'cco:cache';
  const K = { lru: `${p}:lru`, sizes: `${p}:sizes`, bytes: `${p}:bytes`, meta: `${p}:meta`, hits: `${p}:hits`, lastHit: `${p}:lasthit`, statHits: `${p}:stat:hits`, statMisses: `${p}:stat:misses` };
  const ek = (key: string) => `${p}:e:${key}`;

  async function forget(keys: string[]): Promise<number> {
    if (!keys.length) return 0;
    return Number(await scripts.ccoCacheForget(K.lru, K.sizes, K.bytes, K.meta, K.hits, K.lastHit, `${p}:e:`, ...keys));
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

  return {
    kind: 'redis',
    ready: () => (up() ? Promise.resolve() : new Promise<void>((resolve) => redis.once('ready', () => resolve()))),
    async get(key) {
      if (!up()) return undefined;
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
      if (size > o.maxBytes || !up()) return;
      const meta: Meta = { model: v.model, size, stream: v.stream, createdAt: v.createdAt, fields: v.fields };
      await scripts.ccoCacheSet(ek(key), K.lru, K.sizes, K.bytes, K.meta, K.hits, K.lastHit, key, packed, Math.max(1, Math.round(ttlMs)), size, Date.now(), JSON.stringify(meta), o.maxBytes, `${p}:e:`);
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
      if (!up()) return;
      redis.incr(kind === 'hits' ? K.statHits : K.statMisses).catch(() => undefined);
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * Stores one entry and evicts least recently used ones past the byte bound, atomically.
 * KEYS: entry, lru, sizes, bytes, meta, hits, lastHit. ARGV: key, value, ttl ms, size, now, meta,
 * max bytes, entry key prefix. (Evicted entries' keys are built from the prefix: one Redis, not a
 * cluster.)
 */
const SET_SCRIPT = `
local old = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[4])
local total = redis.call('INCRBY', KEYS[4], tonumber(ARGV[4]) - old)
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
redis.call('HSET', KEYS[5], ARGV[1], ARGV[6])
redis.call('HSET', KEYS[6], ARGV[1], 0)
redis.call('HDEL', KEYS[7], ARGV[1])
local max = tonumber(ARGV[7])
local guard = 0
while total > max and guard < 100000 do
  guard = guard + 1
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)
  if #oldest == 0 then
    redis.call('SET', KEYS[4], 0)
    break
  end
  local k = oldest[1]
  local size = tonumber(redis.call('HGET', KEYS[3], k) or '0')
  redis.call('DEL', ARGV[8] .. k)
  redis.call('ZREM', KEYS[2], k)
  redis.call('HDEL', KEYS[3], k)
  redis.call('HDEL', KEYS[5], k)
  redis.call('HDEL', KEYS[6], k)
  redis.call('HDEL', KEYS[7], k)
  total = redis.call('DECRBY', KEYS[4], size)
end
return total
`;

/**
 * Removes entries (those still indexed: a size is subtracted once, by whoever removes it).
 * KEYS: lru, sizes, bytes, meta, hits, lastHit. ARGV: entry key prefix, then the keys.
 */
const FORGET_SCRIPT = `
local freed = 0
for i = 2, #ARGV do
  local k = ARGV[i]
  local size = redis.call('HGET', KEYS[2], k)
  if size then
    freed = freed + tonumber(size)
    redis.call('HDEL', KEYS[2], k)
  end
  redis.call('DEL', ARGV[1] .. k)
  redis.call('ZREM', KEYS[1], k)
  redis.call('HDEL', KEYS[4], k)
  redis.call('HDEL', KEYS[5], k)
  redis.call('HDEL', KEYS[6], k)
end
if freed > 0 then redis.call('DECRBY', KEYS[3], freed) end
return freed
`;
