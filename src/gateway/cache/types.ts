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

/**
 * What an entry costs beyond its encoded bytes when held in memory: the slot and LRU index
 * records, the key string and the Buffer/ArrayBuffer objects (measured on Node 20, rounded up).
 */
export const ENTRY_OVERHEAD = 512;

/** An entry about to be encoded: its head (everything but the body) as JSON, and the encoding's length. */
export interface PreparedEntry {
  head: string;
  headBytes: number;
  bytes: number;
}

export function prepareEntry(v: CachedResponse): PreparedEntry {
  const head = headJson(v);
  const headBytes = Buffer.byteLength(head);
  return { head, headBytes, bytes: 4 + headBytes + v.body.length };
}

/** Writes the encoding of `v` (see encodeEntry) into `b`, which is exactly `p.bytes` long. */
export function writeEntry(b: Buffer, p: PreparedEntry, v: CachedResponse): void {
  b.writeUInt32BE(p.headBytes, 0);
  b.write(p.head, 4, 'utf8');
  v.body.copy(b, 4 + p.headBytes);
}

/**
 * One entry as one Buffer: a 4-byte length, the JSON of everything but the body, then the body
 * bytes. Its own exact-size memory (never a slice of Node's shared 8 KB pool, which would keep
 * the whole pool slab alive for as long as the entry lives).
 */
export function encodeEntry(v: CachedResponse): Buffer {
  const p = prepareEntry(v);
  const b = Buffer.allocUnsafeSlow(p.bytes);
  writeEntry(b, p, v);
  return b;
}

/** Everything but the body, as JSON (an explicit object: a rest-spread copy is a slow path). */
const headJson = (v: CachedResponse): string =>
  JSON.stringify({ status: v.status, headers: v.headers, stream: v.stream, model: v.model, usage: v.usage, costUsd: v.costUsd, createdAt: v.createdAt, fields: v.fields });

export function decodeEntry(b: Buffer): CachedResponse {
  const n = b.readUInt32BE(0);
  const v = JSON.parse(b.toString('utf8', 4, 4 + n)) as CachedResponse;
  v.body = b.subarray(4 + n);
  return v;
}

/** An entry encoded, with the bytes it counts for: its encoding plus the in-memory bookkeeping (both backends count the same). */
export function packEntry(v: CachedResponse): { packed: Buffer; size: number } {
  const packed = encodeEntry(v);
  return { packed, size: packed.length + ENTRY_OVERHEAD };
}

/** Bytes an entry counts for (see packEntry). */
export function entrySize(v: CachedResponse): number {
  return prepareEntry(v).bytes + ENTRY_OVERHEAD;
}
