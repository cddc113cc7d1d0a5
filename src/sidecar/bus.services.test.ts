import { randomBytes } from 'node:crypto';
import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { EventBus } from './bus.js';
import { busContract, localBusWorld } from './bus-contract.js';
import { EventsRepo } from './events-repo.js';
import { RedisNotifier } from './redis-notifier.js';
import { openTestStore } from '../testing/test-store.js';
import type { Dialect } from '../store/store.js';

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

/** A TCP relay to Redis that can drop every connection and refuse new ones for a while (Redis restarting). */
async function flakyRelay(url: string) {
  const target = new URL(url);
  const open = new Set<Socket>();
  let refusing = false;
  const server = createServer((client) => {
    if (refusing) return void client.destroy();
    const upstream = connect(Number(target.port || 6379), target.hostname);
    open.add(client).add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    for (const s of [client, upstream]) s.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    down(): void {
      refusing = true;
      for (const s of open) s.destroy();
    },
    up(): void {
      refusing = false;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

if (redisUrl) {
  describe('event bus: Redis link lost and back', () => {
    it('a waiter on the other instance wakes once the link is back, for an event published while it was down', async () => {
      const t = await openTestStore('sqlite');
      const relay = await flakyRelay(redisUrl);
      const prefix = `cco-test-${randomBytes(4).toString('hex')}:`;
      const na = new RedisNotifier(redisUrl, prefix);
      const nb = new RedisNotifier(relay.url, prefix);
      await Promise.all([na.whenReady(), nb.whenReady()]);
      const a = new EventBus(new EventsRepo(t.store), na);
      const b = new EventBus(new EventsRepo(t.store), nb);
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
        await a.close();
        await b.close();
        await relay.close();
        await t.cleanup();
      }
    }, 30_000);
  });
}

if (pgUrl) {
  busContract('in-process over PostgreSQL', () => localBusWorld('postgres'));
} else {
  describe('event bus: PostgreSQL', () => it.skip('skipped: set DATABASE_URL to run the PostgreSQL event bus suite', () => {}));
}
