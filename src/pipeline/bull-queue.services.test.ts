import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../core/logger.js';
import { tcpRelay } from '../testing/tcp-relay.js';
import { BullQueue } from './bull-queue.js';

const REDIS = process.env.REDIS_URL;

if (!REDIS) describe('BullQueue on a Redis link that stalls', () => it.skip('skipped: set REDIS_URL to run the Redis suite', () => {}));
else
  describe('BullQueue on a Redis link that stalls', () => {
    it('cuts a link that stays open and answers nothing, and works again once Redis answers (was: never, /health 503 for good)', async () => {
      const relay = await tcpRelay(REDIS);
      const prefix = `ccotest-${randomBytes(4).toString('hex')}`;
      const { logger } = createLogger({ level: 'silent' });
      const queue = new BullQueue(relay.url, { concurrency: 1, prefix, logger, socketTimeoutMs: 2000 });
      const ran: string[] = [];
      queue.start(async (id) => void ran.push(id));
      try {
        expect(await queue.depth()).toBe(0);
        relay.swallow();
        await expect(queue.depth()).rejects.toThrow(/did not answer/);
        await new Promise((r) => setTimeout(r, 500));
        relay.up();
        // the queue reads and the worker takes jobs again
        await expect.poll(() => queue.depth().then(() => 'ok', (e: unknown) => (e as Error).message), { timeout: 15_000, interval: 500 }).toBe('ok');
        await queue.add('t_aaaaaaaa01', 5);
        await expect.poll(() => ran, { timeout: 15_000, interval: 200 }).toEqual(['t_aaaaaaaa01']);
      } finally {
        await queue.close();
        await relay.close();
        const redis = new Redis(REDIS);
        const keys = await redis.keys(`${prefix}:*`);
        if (keys.length) await redis.del(...keys);
        redis.disconnect();
      }
    }, 45_000);
  });
