import { randomBytes } from 'node:crypto';
import { describe, it } from 'vitest';
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

if (pgUrl) {
  busContract('in-process over PostgreSQL', () => localBusWorld('postgres'));
} else {
  describe('event bus: PostgreSQL', () => it.skip('skipped: set DATABASE_URL to run the PostgreSQL event bus suite', () => {}));
}
