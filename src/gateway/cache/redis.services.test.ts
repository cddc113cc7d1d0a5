import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../core/errors.js';
import { describeCacheBackend } from './backend.contract.js';
import { createRedisBackend } from './redis.js';
import { entry } from './backend.contract.js';
import { ResponseCache } from './response-cache.js';

const url = process.env.REDIS_URL;
if (!url) {
  describe('cache backend: redis', () => {
    it.skip('skipped: REDIS_URL is not set (CI sets it; e.g. REDIS_URL=redis://127.0.0.1:6379)', () => undefined);
  });
} else {
  // A key prefix per backend instance, so concurrent runs never share entries.
  describeCacheBackend('redis', async (maxBytes) => {
    const b = createRedisBackend({ url, maxBytes, prefix: `cco-test:${randomBytes(6).toString('hex')}` });
    await b.ready();
    return b;
  });
}

if (url) {
  describe('cache backend: redis that does not answer', () => {
    it('a lookup is a miss within a moment, and the operator endpoints say the backend is unavailable', async () => {
      const held: Socket[] = [];
      // accepts connections and never answers (a stuck Redis, a network partition)
      const server = createServer((s) => void held.push(s.on('error', () => undefined)));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const b = createRedisBackend({ url: `redis://127.0.0.1:${(server.address() as { port: number }).port}`, maxBytes: 1_000_000, prefix: `cco-test:${randomBytes(6).toString('hex')}` });
      try {
        const t0 = Date.now();
        expect(await b.get('k').catch(() => undefined)).toBeUndefined();
        await b.set('k', entry(10), 60_000).catch(() => undefined);
        expect(Date.now() - t0).toBeLessThan(1000);
        const cache = new ResponseCache(b, { maxBytes: 1_000_000, ttlMs: 60_000, maxEntryBytes: 1_000_000 });
        const l0 = Date.now();
        expect(await cache.lookup('k')).toBeUndefined();
        expect(Date.now() - l0).toBeLessThan(1000);
        const err = await cache.stats().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(AppError);
        expect((err as AppError).status).toBe(503);
      } finally {
        b.close().catch(() => undefined);
        for (const s of held) s.destroy();
        await new Promise<void>((r) => server.close(() => r()));
      }
    });
  });
}
