import { describe, expect, it, vi } from 'vitest';
import { EventBus } from './bus.js';
import { RedisNotifier } from './redis-notifier.js';
import { busContract, localBusWorld } from './bus-contract.js';
import { EventsRepo, READ_DATA_BYTES } from './events-repo.js';
import type { EventQuery } from './events-repo.js';
import { failingWriter } from './failing-writer.js';
import { openTestStore } from '../testing/test-store.js';

// the daemon's default (SQLite, no Redis): recent events served from memory; a tail of 7
// events makes waits and reads cross between memory and store all the time
busContract('in-process over SQLite, memory tail', () => localBusWorld('sqlite', { tail: { maxEvents: 7 } }));

busContract('in-process over SQLite, store reads', () => localBusWorld('sqlite'));

describe('events repo memory tail', () => {
  it('answers every read exactly like the store, inside and below its window', async () => {
    const t = await openTestStore('sqlite');
    try {
      // events stored before this process started are only in the store
      const before = new EventsRepo(t.store);
      for (let i = 0; i < 5; i++) await before.insert({ event_type: i % 2 ? 'a' : 'b', topic: `t${i % 3}`, publisher: 'p', agent_id: 'p', issue_id: i % 4 ? null : 'x', data: { i } });
      const tail = new EventsRepo(t.store, { tail: { maxEvents: 10 } });
      const store = new EventsRepo(t.store);
      await Promise.all(Array.from({ length: 30 }, (_, i) => tail.insert({ event_type: i % 2 ? 'a' : 'b', topic: `t${i % 3}`, publisher: `p${i % 2}`, agent_id: 'p', issue_id: i % 4 ? null : `i${i % 3}`, data: { i, at: new Date(0) } })));
      const queries: EventQuery[] = [
        { eventType: '*', issues: '*' },
        { eventType: 'a', issues: '*' },
        { eventType: 'a', topic: 't1', issues: '*' },
        { eventType: 'b', topic: 't0', publisher: 'p0', issues: ['i0'] },
        { eventType: '*', issueId: 'i1', issues: '*' },
        { eventType: 'b', topic: 'nope', issues: '*' },
        { eventType: '*', issues: [] },
      ];
      for (const q of queries) {
        for (const after of [0, 3, 20, 28, 34, 35, 99]) {
          for (const limit of [1, 4, 100]) {
            expect(await tail.after(q, after, limit), JSON.stringify({ q, after, limit })).toEqual(await store.after(q, after, limit));
          }
        }
      }
    } finally {
      await t.cleanup();
    }
  });
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

describe('events repo memory tail after a failed write', () => {
  it('does not skip events committed by a write that then reported a failure (a thread that died before its answer)', async () => {
    const t = await openTestStore('sqlite');
    try {
      const writer = failingWriter(t.store, 'after');
      const repo = new EventsRepo(t.store, { tail: true, writer });
      const ev = (n: number) => ({ event_type: 'step', topic: null, publisher: 'p', agent_id: 'p', issue_id: null, data: { n } });
      await repo.insert(ev(1));
      writer.failures = 1;
      await expect(repo.insert(ev(2))).rejects.toThrow(/exited/);
      await repo.insert(ev(3));
      const q: EventQuery = { eventType: 'step', issues: '*' };
      // event 2 is in the store: a reader after event 1 sees it, as a store read does
      expect((await repo.after(q, 1)).map((e) => e.data)).toEqual([{ n: 2 }, { n: 3 }]);
      expect(await repo.after(q, 0)).toEqual(await new EventsRepo(t.store).after(q, 0));
      // and the tail serves reads above its new floor again
      await repo.insert(ev(4));
      expect((await repo.after(q, 3)).map((e) => e.data)).toEqual([{ n: 4 }]);
    } finally {
      await t.cleanup();
    }
  });
});

describe('events repo prune', () => {
  it('deletes the old events and keeps the newest, which it learns from newestId', async () => {
    const t = await openTestStore('sqlite');
    try {
      const old = Date.now() - 40 * 24 * 3600_000;
      const ev = (created_at: number, topic: string) => ({ event_type: 'done', topic, publisher: 'p', agent_id: 'a', issue_id: null, data: '{}', created_at });
      await t.store.db.insertInto('sidecar_events').values([ev(old, 'old-1'), ev(old, 'old-2'), ev(old, 'newest')]).execute();
      const repo = new EventsRepo(t.store);
      const newestId = vi.spyOn(repo, 'newestId');
      expect(await repo.prune(Date.now() - 24 * 3600_000)).toBe(2);
      expect(newestId).toHaveBeenCalledTimes(1);
      expect((await t.store.db.selectFrom('sidecar_events').select('topic').execute()).map((r) => r.topic)).toEqual(['newest']);
    } finally {
      await t.cleanup();
    }
  });
});

describe('events repo reads are bounded by bytes', () => {
  it('gives no more than READ_DATA_BYTES of data a read (at least one event), from memory and from the store; the next read goes on from the cursor', async () => {
    const t = await openTestStore('sqlite');
    try {
      const tail = new EventsRepo(t.store, { tail: true });
      const store = new EventsRepo(t.store);
      // 6 events of ~900 KB: a read of 1,000 would be 5.4 MB of data
      const blob = 'x'.repeat(900_000);
      for (let i = 0; i < 6; i++) await tail.insert({ event_type: 'big', topic: null, publisher: 'p', agent_id: 'p', issue_id: null, data: { i, blob } });
      await tail.insert({ event_type: 'big', topic: null, publisher: 'p', agent_id: 'p', issue_id: null, data: { i: 6, blob: 'x'.repeat(READ_DATA_BYTES + 10) } });
      for (const repo of [tail, store]) {
        const seen: number[] = [];
        let after = 0;
        for (let reads = 0; reads < 10; reads++) {
          const got = await repo.after({ eventType: 'big', issues: '*' }, after, 1000);
          if (got.length === 0) break;
          const bytes = got.reduce((n, e) => n + JSON.stringify(e.data).length, 0);
          // one event alone may pass the bound (the last one here), never two together
          if (got.length > 1) expect(bytes).toBeLessThanOrEqual(READ_DATA_BYTES + 1024);
          seen.push(...got.map((e) => (e.data as { i: number }).i));
          after = (got.at(-1) as { id: number }).id;
        }
        expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6]);
      }
    } finally {
      await t.cleanup();
    }
  });
});

describe('events repo count', () => {
  it('equals the rows there are, after inserts and a retention prune (SQLite counts by the ids\' span)', async () => {
    const t = await openTestStore('sqlite');
    try {
      const repo = new EventsRepo(t.store);
      expect(await repo.count()).toBe(0);
      for (let i = 0; i < 20; i++) await repo.insert({ event_type: 'c', topic: null, publisher: 'p', agent_id: 'p', issue_id: null, data: { i } });
      expect(await repo.count()).toBe(20);
      // the 12 oldest go (created_at before now + 1 s: all but the newest, which always stays)
      await t.store.db.updateTable('sidecar_events').set({ created_at: 0 }).where('id', '<=', 12).execute();
      await repo.prune(1);
      const rows = Number((await t.store.db.selectFrom('sidecar_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst())?.n);
      expect(rows).toBe(8);
      expect(await repo.count()).toBe(rows);
    } finally {
      await t.cleanup();
    }
  });
});
