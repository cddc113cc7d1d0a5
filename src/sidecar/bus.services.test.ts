import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EventBus } from './bus.js';
import { busContract, localBusWorld } from './bus-contract.js';
import { EventsRepo } from './events-repo.js';
import { RedisNotifier } from './redis-notifier.js';
import { openTestStore } from '../testing/test-store.js';
import type { Dialect } from '../store/store.js';
import { tcpRelay } from '../testing/tcp-relay.js';

const redisUrl = process.env.REDIS_URL;
const pgUrl = process.env.DATABASE_URL;

/** Two buses (as two daemon instances) over one store, woken through Redis. */
function redisPair(dialect: Dialect) {
  return async () => {
    const t = await openTestStore(dialect);
    const prefix = `cco-test-${randomBytes(4).toString('hex')}:`;
    const na = new RedisNotifier(redisUrl as string, prefix);
    const nb = new RedisNotifier(redisUrl as string, prefix);
    await Promise.all([na.whenReady(), nb.whenReady()]);
    const a = new EventBus(new EventsRepo(t.store), na);
    const b = new EventBus(new EventsRepo(t.store), nb);
    return {
      a,
      b,
      async close() {
        await a.close();
        await b.close();
        await t.cleanup();
      },
    };
  };
}

if (redisUrl) {
  busContract('Redis wake-ups over SQLite', redisPair('sqlite'));
  if (pgUrl) busContract('Redis wake-ups over PostgreSQL', redisPair('postgres'));
} else {
  describe('event bus: Redis', () => it.skip('skipped: set REDIS_URL to run the Redis event bus suite', () => {}));
}


/** Two instances' buses on one store and one Redis, B's link through a relay the test can break. */
async function twoInstances(redisUrl: string) {
  const t = await openTestStore('sqlite');
  const relay = await tcpRelay(redisUrl);
  const prefix = `cco-test-${randomBytes(4).toString('hex')}:`;
  const na = new RedisNotifier(redisUrl, prefix);
  const nb = new RedisNotifier(relay.url, prefix);
  await Promise.all([na.whenReady(), nb.whenReady()]);
  const a = new EventBus(new EventsRepo(t.store), na);
  const b = new EventBus(new EventsRepo(t.store), nb);
  const close = async () => {
    await a.close();
    await b.close();
    await relay.close();
    await t.cleanup();
  };
  return { relay, nb, a, b, close };
}

if (redisUrl) {
  describe('event bus: Redis link lost and back', () => {
    it('a waiter on the other instance wakes once the link is back, for an event published while it was down', async () => {
      const { relay, nb, a, b, close } = await twoInstances(redisUrl);
      try {
        const waiting = b.wait({ eventType: 'relinked', issues: '*' }, 0, 20_000);
        relay.down();
        await new Promise((r) => setTimeout(r, 300));
        // health answers at once while the link is down
        const h0 = Date.now();
        expect(await nb.healthy()).toBe(false);
        expect(Date.now() - h0).toBeLessThan(100);
        const e = await a.publish({ event_type: 'relinked', topic: 't', publisher: 'p', agent_id: 'p', issue_id: null, data: {} });
        relay.up();
        const t0 = Date.now();
        const r = await waiting;
        expect(r.events.map((x) => x.id)).toEqual([e.id]);
        // woken by the reconnect (ioredis retries within a couple of seconds), not by its 20 s timeout
        expect(Date.now() - t0).toBeLessThan(10_000);
        await expect.poll(() => nb.healthy(), { timeout: 5000 }).toBe(true);
      } finally {
        await close();
      }
    }, 30_000);

    it('an event published by an instance whose link is down wakes the other instances once its link is back', async () => {
      const { relay, a, b, close } = await twoInstances(redisUrl);
      try {
        // a waiter on A from before the publish: only a wake-up tells it to read again
        const waiting = a.wait({ eventType: 'published_offline', issues: '*' }, 0, 25_000);
        await new Promise((r) => setTimeout(r, 100));
        relay.down();
        await new Promise((r) => setTimeout(r, 300));
        const e = await b.publish({ event_type: 'published_offline', topic: 't', publisher: 'p', agent_id: 'p', issue_id: null, data: {} });
        // past ioredis's retries of that wake-up: it is dropped
        await new Promise((r) => setTimeout(r, 2500));
        relay.up();
        const t0 = Date.now();
        const r = await waiting;
        expect(r.events.map((x) => x.id)).toEqual([e.id]);
        expect(Date.now() - t0).toBeLessThan(10_000);
      } finally {
        await close();
      }
    }, 40_000);

    it('a link that accepts and never answers is cut and reconnected (healthy again once Redis answers)', async () => {
      const relay = await tcpRelay(redisUrl);
      const nb = new RedisNotifier(relay.url, `cco-test-${randomBytes(4).toString('hex')}:`);
      try {
        await nb.whenReady();
        relay.swallow();
        await expect.poll(() => nb.healthy(), { timeout: 3000 }).toBe(false);
        await new Promise((r) => setTimeout(r, 3000));
        relay.up();
        // socketTimeout (5 s) cuts the swallowed sockets; ioredis then reconnects through the relay
        await expect.poll(() => nb.healthy(), { timeout: 20_000, interval: 250 }).toBe(true);
      } finally {
        await nb.close();
        await relay.close();
      }
    }, 40_000);
  });
}

if (pgUrl) {
  busContract('in-process over PostgreSQL', () => localBusWorld('postgres'));
} else {
  describe('event bus: PostgreSQL', () => it.skip('skipped: set DATABASE_URL to run the PostgreSQL event bus suite', () => {}));
}
