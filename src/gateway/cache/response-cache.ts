import { AppError } from '../../core/errors.js';
import { differingFields } from './key.js';
import type { CacheKey } from './key.js';
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
}

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)}GB`;
  if (n >= 1024 ** 2) return `${Math.round(n / 1024 ** 2)}MB`;
  if (n >= 1024) return `${Math.round(n / 1024)}KB`;
  return `${n}B`;
}

/** The response cache over a backend: enable/disable rules, counters, stats and diagnosis. */
export class ResponseCache {
  constructor(
    readonly backend: CacheBackend,
    private settings: CacheSettings,
  ) {}

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
    if (!this.enabled || value.body.length > this.maxEntryBytes) return;
    await this.backend.set(key, value, this.settings.ttlMs);
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
    };
  }

  async clear(): Promise<{ status: 'ok'; cleared: number; freedMemory: string; freedBytes: number }> {
    const r = await this.ask(() => this.backend.clear());
    return { status: 'ok', cleared: r.cleared, freedMemory: formatBytes(r.freedBytes), freedBytes: r.freedBytes };
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
    const reason = !this.enabled
      ? 'the cache is disabled (--cache-ttl 0 or --cache-size 0)'
      : exact
        ? 'an identical request is cached: it would be a hit'
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
}
