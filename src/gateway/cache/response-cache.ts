import { AppError } from '../../core/errors.js';
import { differingFields } from './key.js';
import type { CacheKey } from './key.js';
import { entrySize } from './types.js';
import type { CacheBackend, CacheEntryInfo, CachedResponse } from './types.js';

export interface CacheSettings {
  /** Byte bound (`--cache-size` MB × 1 MiB); 0 disables. */
  maxBytes: number;
  /** Entry lifetime; 0 disables the cache (`--cache-ttl 0`). */
  ttlMs: number;
  /** Largest single response kept (a stream being collected is dropped past it). */
  maxEntryBytes: number;
}

export interface CacheStats {
  enabled: boolean;
  backend: 'memory' | 'redis';
  hits: number;
  misses: number;
  /** hits / (hits + misses), 0..1. */
  hitRate: number;
  /** Bytes held. */
  size: number;
  /** Byte bound. */
  maxSize: number;
  entries: number;
  ttlSeconds: number;
  /** The process answering: under `cco proxy --workers N` each worker has a cache of its own. */
  pid: number;
}

/** What one process's clear freed. */
export interface ClearedCache {
  pid: number;
  cleared: number;
  freedBytes: number;
}

/**
 * The caches of the other processes serving the same port (`cco proxy --workers N` with the
 * in-memory backend): a clear has to reach them too, or the next request is a hit elsewhere.
 */
export interface CachePeers {
  /** Clears every other process's cache (ResponseCache.clearOwn there); one answer each. */
  clear(): Promise<ClearedCache[]>;
}

/** Room for an entry's head (status, headers, timestamps) beside its body, for the size check in store(). */
const HEAD_ALLOWANCE = 64 * 1024;

/** How many answers too large to store are remembered (for /api/cache/debug). */
const TOO_LARGE_REMEMBERED = 256;

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)}GB`;
  if (n >= 1024 ** 2) return `${Math.round(n / 1024 ** 2)}MB`;
  if (n >= 1024) return `${Math.round(n / 1024)}KB`;
  return `${n}B`;
}

/** The response cache over a backend: enable/disable rules, counters, stats and diagnosis. */
export class ResponseCache {
  private peers: CachePeers | undefined;
  /** Keys of answers refused as too large, with their size (oldest first; bounded). */
  private readonly tooLarge = new Map<string, number>();

  constructor(
    readonly backend: CacheBackend,
    private settings: CacheSettings,
  ) {}

  /** The other processes whose caches a clear must reach (see CachePeers). */
  setPeers(peers: CachePeers | undefined): void {
    this.peers = peers;
  }

  get enabled(): boolean {
    return this.settings.ttlMs > 0 && this.settings.maxBytes > 0;
  }

  get maxEntryBytes(): number {
    return Math.min(this.settings.maxEntryBytes, this.settings.maxBytes);
  }

  configure(s: Partial<CacheSettings>): void {
    this.settings = { ...this.settings, ...s };
  }

  get config(): CacheSettings {
    return { ...this.settings };
  }

  /** The cached answer, or undefined (a backend failure, e.g. Redis down, is a miss, not an error). */
  async lookup(key: string): Promise<CachedResponse | undefined> {
    let v: CachedResponse | undefined;
    try {
      v = await this.backend.get(key);
    } catch {
      v = undefined;
    }
    this.backend.count(v ? 'hits' : 'misses');
    return v;
  }

  async store(key: string, value: CachedResponse): Promise<void> {
    if (!this.enabled) return;
    if (value.body.length > this.maxEntryBytes) return this.refusedAsTooLarge(key, value.body.length);
    // Both backends refuse an entry larger than the whole cache, its bookkeeping included. The
    // exact size takes a second JSON encoding of the head, so it is worked out only for a body
    // near that size (every miss is stored: the common case stays one encoding, in the backend).
    if (value.body.length + HEAD_ALLOWANCE >= this.settings.maxBytes) {
      const bytes = entrySize(value);
      if (bytes > this.settings.maxBytes) return this.refusedAsTooLarge(key, bytes);
    }
    if (this.tooLarge.size) this.tooLarge.delete(key);
    await this.backend.set(key, value, this.settings.ttlMs);
  }

  /**
   * Remembers that the answer to `key` was not stored for its size (`bytes`, or at least that),
   * so /api/cache/debug can say so rather than "the cache is empty".
   */
  refusedAsTooLarge(key: string, bytes: number): void {
    this.tooLarge.delete(key);
    this.tooLarge.set(key, bytes);
    if (this.tooLarge.size > TOO_LARGE_REMEMBERED) this.tooLarge.delete(this.tooLarge.keys().next().value as string);
  }

  /** A backend call for an operator endpoint: a backend that is down (Redis) is a 503 saying so, not a 500. */
  private async ask<T>(what: () => Promise<T>): Promise<T> {
    try {
      return await what();
    } catch (e) {
      throw new AppError(503, 'cache_unavailable', `The ${this.backend.kind} cache backend did not answer: ${(e as Error).message}`);
    }
  }

  async stats(): Promise<CacheStats> {
    const [{ hits, misses }, { entries, bytes }] = await this.ask(() => Promise.all([this.backend.counters(), this.backend.size()]));
    return {
      enabled: this.enabled,
      backend: this.backend.kind,
      hits,
      misses,
      hitRate: hits + misses > 0 ? Math.round((hits / (hits + misses)) * 10_000) / 10_000 : 0,
      size: bytes,
      maxSize: this.settings.maxBytes,
      entries,
      ttlSeconds: Math.round(this.settings.ttlMs / 1000),
      pid: process.pid,
    };
  }

  /**
   * Clears this cache and the peers' (see setPeers): `cleared` and `freedBytes` count them all,
   * `pid` is the process answering, `workers` what each one freed (only with peers).
   */
  async clear(): Promise<{ status: 'ok'; cleared: number; freedMemory: string; freedBytes: number; pid: number; workers?: ClearedCache[] }> {
    const own = await this.clearOwn();
    const workers = this.peers ? [own, ...(await this.peers.clear())] : [own];
    const cleared = workers.reduce((n, w) => n + w.cleared, 0);
    const freedBytes = workers.reduce((n, w) => n + w.freedBytes, 0);
    return { status: 'ok', cleared, freedMemory: formatBytes(freedBytes), freedBytes, pid: process.pid, ...(this.peers ? { workers } : {}) };
  }

  /** Clears this process's cache only (what a peer's clear asks of this one). */
  async clearOwn(): Promise<ClearedCache> {
    const r = await this.ask(() => this.backend.clear());
    this.tooLarge.clear();
    return { pid: process.pid, cleared: r.cleared, freedBytes: r.freedBytes };
  }

  /** Entries by hits (most first), then size: the ones with few hits and many bytes waste space. */
  async topItems(limit: number): Promise<(Omit<CacheEntryInfo, 'fields'> & { ageSeconds: number })[]> {
    const all = await this.ask(() => this.backend.list(100_000));
    all.sort((a, b) => b.hits - a.hits || b.size - a.size);
    const now = Date.now();
    return all.slice(0, limit).map(({ fields: _f, ...rest }) => ({ ...rest, ageSeconds: Math.round((now - rest.createdAt) / 1000) }));
  }

  /** Why a request would hit or miss: its key, and the nearest cached entry with the fields that differ. */
  async debug(k: CacheKey): Promise<{
    key: string;
    fields: string[];
    cached: boolean;
    wouldHit: boolean;
    enabled: boolean;
    reason: string;
    nearest: { key: string; model: string; differingFields: string[]; hits: number; ageSeconds: number } | null;
  }> {
    const entries = await this.ask(() => this.backend.list(100_000));
    const exact = entries.find((e) => e.key === k.key);
    let nearest: CacheEntryInfo | undefined;
    let best = Infinity;
    for (const e of entries) {
      if (e.key === k.key) continue;
      const d = differingFields(k.fields, e.fields).length;
      if (d < best) {
        best = d;
        nearest = e;
      }
    }
    const now = Date.now();
    const tooLarge = this.tooLarge.get(k.key);
    const reason = !this.enabled
      ? 'the cache is disabled (--cache-ttl 0 or --cache-size 0)'
      : exact
        ? 'an identical request is cached: it would be a hit'
        : tooLarge !== undefined
          ? this.tooLargeReason(tooLarge)
          : nearest
            ? `no identical request is cached; the nearest entry differs in: ${differingFields(k.fields, nearest.fields).join(', ')}`
            : 'the cache is empty';
    return {
      key: k.key,
      fields: Object.keys(k.fields),
      cached: Boolean(exact),
      wouldHit: Boolean(exact) && this.enabled,
      enabled: this.enabled,
      reason,
      nearest: nearest
        ? { key: nearest.key, model: nearest.model, differingFields: differingFields(k.fields, nearest.fields), hits: nearest.hits, ageSeconds: Math.round((now - nearest.createdAt) / 1000) }
        : null,
    };
  }

  private tooLargeReason(bytes: number): string {
    // small sizes exactly: "1KB larger than 1KB" said nothing
    const size = (n: number) => (n < 10 * 1024 ? `${n} bytes` : formatBytes(n));
    const what = `the answer to this request was too large to store (${size(bytes)})`;
    if (this.settings.maxEntryBytes < this.settings.maxBytes) return `${what}: no answer over ${size(this.settings.maxEntryBytes)} is cached`;
    return `${what}: the whole cache holds ${size(this.settings.maxBytes)} (--cache-size); raise --cache-size to cache it`;
  }
}
