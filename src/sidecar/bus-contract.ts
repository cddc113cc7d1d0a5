import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus, LocalNotifier } from './bus.js';
import { EventsRepo } from './events-repo.js';
import type { EventInput, EventQuery, StoredEvent } from './events-repo.js';
import { openTestStore } from '../testing/test-store.js';
import type { Dialect } from '../store/store.js';

/**
 * The behaviour every event-bus backend must show. `open` gives two buses over one store:
 * the same object for the in-process bus, two instances (as two daemons) for Redis.
 */
export function busContract(name: string, open: () => Promise<{ a: EventBus; b: EventBus; close(): Promise<void> }>): void {
  describe(`event bus: ${name}`, () => {
    let a: EventBus;
    let b: EventBus;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ a, b, close } = await open());
    });
    afterAll(async () => {
      await close();
    });

    const ev = (type: string, over: Partial<EventInput> = {}): EventInput => ({ event_type: type, topic: 't', publisher: 'p', agent_id: 'p', issue_id: null, data: { at: Date.now() }, ...over });
    const q = (type: string, over: Partial<EventQuery> = {}): EventQuery => ({ eventType: type, issues: '*', ...over });

    it('persists with increasing cursors and reads after a cursor', async () => {
      const e1 = await a.publish(ev('persist'));
      const e2 = await a.publish(ev('persist', { data: { n: 2 } }));
      expect(e2.id).toBeGreaterThan(e1.id);
      const got = await b.read(q('persist'), e1.id);
      expect(got.map((e) => e.id)).toEqual([e2.id]);
      expect(got[0]?.data).toEqual({ n: 2 });
    });

    it('returns at once when a matching event is already there', async () => {
      const e = await a.publish(ev('ready', { topic: 'arch' }));
      const t0 = Date.now();
      const r = await b.wait(q('ready', { topic: 'arch' }), e.id - 1, 5000);
      expect(Date.now() - t0).toBeLessThan(500);
      expect(r.events.map((x) => x.id)).toEqual([e.id]);
      expect(r.cursor).toBe(e.id);
    });

    it('wakes a waiter (on the other instance) when a matching event is published', async () => {
      const start = (await a.read(q('*'), 0, 1000)).at(-1)?.id ?? 0;
      const waiting = b.wait(q('wake', { topic: 'impl' }), start, 5000);
      for (let i = 0; b.stats().waiters !== 1; i++) {
        expect(i, 'the waiter parks').toBeLessThan(200);
        await new Promise((r) => setTimeout(r, 10));
      }
      await a.publish(ev('wake', { topic: 'other' }));
      const t0 = Date.now();
      const e = await a.publish(ev('wake', { topic: 'impl' }));
      const r = await waiting;
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(r.events.map((x) => x.id)).toEqual([e.id]);
      expect(b.stats().waiters).toBe(0);
    });

    it('times out with no events and the cursor unchanged', async () => {
      const r = await b.wait(q('never'), 0, 100);
      expect(r).toEqual({ events: [], cursor: 0, timed_out: true });
    });

    it('ends a wait when its signal aborts', async () => {
      const ac = new AbortController();
      const p = b.wait(q('never'), 0, 10_000, { signal: ac.signal });
      setTimeout(() => ac.abort(), 30);
      const r = await p;
      expect(r.events).toEqual([]);
    });

    it('hides events of issues outside the scope; shared events stay visible', async () => {
      const base = (await a.read(q('*'), 0, 1000)).at(-1)?.id ?? 0;
      await a.publish(ev('scoped', { issue_id: 'other' }));
      const shared = await a.publish(ev('scoped', { issue_id: null }));
      const mine = await a.publish(ev('scoped', { issue_id: 'mine' }));
      const got = await b.read(q('scoped', { issues: ['mine'] }), base);
      expect(got.map((e) => e.id)).toEqual([shared.id, mine.id]);
    });

    it('loses nothing and repeats nothing across consecutive waits under concurrent publishers', async () => {
      const base = (await a.read(q('*'), 0, 1000)).at(-1)?.id ?? 0;
      const N = 100;
      const pubs = Promise.all(
        [0, 1, 2, 3].map(async (k) => {
          for (let i = 0; i < N / 4; i++) await (i % 2 ? a : b).publish(ev('burst', { data: { k, i } }));
        }),
      );
      const seen: StoredEvent[] = [];
      let cursor = base;
      while (seen.length < N) {
        const r = await b.wait(q('burst'), cursor, 5000, { limit: 9 });
        expect(r.timed_out).toBe(false);
        seen.push(...r.events);
        cursor = r.cursor;
      }
      await pubs;
      const ids = seen.map((e) => e.id);
      expect(new Set(ids).size).toBe(N);
      expect([...ids].sort((x, y) => x - y)).toEqual(ids);
      expect((await b.read(q('burst'), cursor)).length).toBe(0);
    });

    it('a subscription gets the backlog then live events, each once and in order', async () => {
      const base = (await a.read(q('*'), 0, 1000)).at(-1)?.id ?? 0;
      await a.publish(ev('sub', { data: { i: 0 } }));
      const got: number[] = [];
      const done = new Promise<void>((resolve) => {
        const off = b.subscribe(q('sub'), base, (events) => {
          for (const e of events) got.push((e.data as { i: number }).i);
          if (got.length >= 6) {
            off();
            resolve();
          }
        });
      });
      for (let i = 1; i < 6; i++) await (i % 2 ? a : b).publish(ev('sub', { data: { i } }));
      await done;
      expect(got).toEqual([0, 1, 2, 3, 4, 5]);
      expect(b.stats().subscriptions).toBe(0);
    });

    it('reports healthy', async () => {
      expect(await a.healthy()).toBe(true);
      expect(await b.healthy()).toBe(true);
    });
  });
}

/** One in-process bus over a fresh test store, as both sides of the contract (`a` and `b`). */
export async function localBusWorld(dialect: Dialect, repo: ConstructorParameters<typeof EventsRepo>[1] = {}): Promise<{ a: EventBus; b: EventBus; close(): Promise<void> }> {
  const t = await openTestStore(dialect);
  const bus = new EventBus(new EventsRepo(t.store, repo), new LocalNotifier());
  return {
    a: bus,
    b: bus,
    async close() {
      await bus.close();
      await t.cleanup();
    },
  };
}
