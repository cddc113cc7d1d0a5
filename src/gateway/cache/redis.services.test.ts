import { randomBytes } from 'node:crypto';
import { describe, it } from 'vitest';
import { describeCacheBackend } from './backend.contract.js';
import { createRedisBackend } from './redis.js';

const url = process.env.REDIS_URL;
if (!url) {
  describe('cache backend: redis', () => {
    it.skip('skipped: REDIS_URL is not set (CI sets it; e.g. REDIS_URL=redis://127.0.0.1:6379)', () => undefined);
  });
} else {
  // A key prefix per backend instance, so concurrent runs never share entries.
  describeCacheBackend('redis', async (maxBytes) => createRedisBackend({ url, maxBytes, prefix: `cco-test:${randomBytes(6).toString('hex')}` }));
}
