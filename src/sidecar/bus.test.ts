import { describe, expect, it } from 'vitest';
import { LocalNotifier, EventBus } from './bus.js';
import { RedisNotifier } from './redis-notifier.js';
import { busContract } from './bus-contract.js';
import { EventsRepo } from './events-repo.js';
import { openTestStore } from '../testing/test-store.js';

busContract('in-process over SQLite', async () => {
  const t = await openTestStore('sqlite');
  const bus = new EventBus(new EventsRepo(t.store), new LocalNotifier());
  return {
    a: bus,
    b: bus,
    async close() {
      await bus.close();
      await t.cleanup();
    },
  };
});

describe('event bus with Redis unreachable', () => {
  it('still stores, acknowledges at once and wakes local waiters; reports unhealthy', async () => {
    const t = await openTestStore('sqlite');
    const notifier = new RedisNotifier('redis://127.0.0.1:1', 'cco-test:');
    const bus = new EventBus(new EventsRepo(t.store), notifier);
    try {
      const waiting = bus.wait({ eventType: 'x', issues: '*' }, 0, 5000);
      const t0 = Date.now();
      const ev = await bus.publish({ event_type: 'x', topic: null, publisher: 'p', agent_id: 'p', issue_id: null, data: 1 });
      expect(Date.now() - t0).toBeLessThan(500);
      expect((await waiting).events.map((e) => e.id)).toEqual([ev.id]);
      expect(await bus.healthy()).toBe(false);
    } finally {
      await bus.close();
      await t.cleanup();
    }
  });
});
