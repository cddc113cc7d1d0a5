import type { Usage } from '../proxy/usage.js';

/** A cached upstream answer, replayed byte for byte (a stream is replayed as the same stream). */
export interface CachedResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  stream: boolean;
  model: string;
  usage: Usage;
  /** What the original request cost, i.e. what a hit saves. */
  costUsd: number;
  createdAt: number;
  /** Key field digests (for /api/cache/debug). */
  fields: Record<string, string>;
}

/** What /api/cache/top-items and /api/cache/debug list per entry. */
export interface CacheEntryInfo {
  key: string;
  model: string;
  size: number;
  hits: number;
  stream: boolean;
  createdAt: number;
  lastHitAt: number | null;
  fields: Record<string, string>;
}

/** One storage for the response cache: in-memory (lru-cache) or Redis, same behaviour. */
export interface CacheBackend {
  readonly kind: 'memory' | 'redis';
  get(key: string): Promise<CachedResponse | undefined>;
  set(key: string, value: CachedResponse, ttlMs: number): Promise<void>;
  clear(): Promise<{ cleared: number; freedBytes: number }>;
  /** Entries and bytes held now. */
  size(): Promise<{ entries: number; bytes: number }>;
  /** Entries with their hit counts (at most `limit`, any order). */
  list(limit: number): Promise<CacheEntryInfo[]>;
  /** Counters shared by every instance using the backend. */
  counters(): Promise<{ hits: number; misses: number }>;
  count(kind: 'hits' | 'misses'): void;
  close(): Promise<void>;
}

/** Bytes an entry occupies (body plus a fair share for headers and bookkeeping). */
export function entrySize(v: CachedResponse): number {
  let h = 256;
  for (const [k, val] of Object.entries(v.headers)) h += k.length + val.length;
  for (const [k, val] of Object.entries(v.fields)) h += k.length + val.length;
  return v.body.length + h;
}
