import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentsRepo } from '../sidecar/agents-repo.js';
import { EventsRepo } from '../sidecar/events-repo.js';
import { sqlWriterFor } from './sql-writer.js';
import type { SqlWriter } from './sql-writer.js';
import { openTestStore, testDialects } from '../testing/test-store.js';
import type { TestStore } from '../testing/test-store.js';
import { HookEventsRepo } from './repos/hook-events.js';
import { DAY_MS } from './retention.js';

// The prune queries on SQLite (a file: the sidecar's write thread) and, with DATABASE_URL, on PostgreSQL.
for (const dialect of testDialects()) {
  describe(`retention prunes, on ${dialect}`, () => {
    let t: TestStore;
    let writer: SqlWriter;
    const now = Date.now();
    const old = now - 40 * DAY_MS;
    const cutoff = now - 30 * DAY_MS;
    beforeEach(async () => {
      t = await openTestStore(dialect);
      writer = sqlWriterFor(t.store);
    });
    afterEach(async () => {
      await writer.close();
      await t.cleanup();
    });

    const hookRow = (received_at: number, tool: string) => ({ received_at, event: 'PostToolUse', session_id: 's', tool_name: tool, tool_use_id: null, agent_id: null, agent_type: null, cwd: null, decision: null, payload: '{}' });
    const eventRow = (created_at: number, topic: string) => ({ event_type: 'done', topic, publisher: 'p', agent_id: 'a', issue_id: null, data: '{}', created_at });

    it('hook events: deletes those received before the cutoff, in batches, and ids are not handed out again', async () => {
      const repo = new HookEventsRepo(t.store);
      for (let i = 0; i < 5; i++) await repo.insert(hookRow(old + i, `old${i}`));
      const recent = await repo.insert(hookRow(now, 'recent'));
      // the newest row is old too: AUTOINCREMENT / a sequence still never reuses its id
      const lastOld = await repo.insert(hookRow(old, 'old-last'));
      const batches: number[] = [];
      let asked = 0;
      expect(await repo.prune(cutoff, { batch: 2, stopped: () => (batches.push(asked++), false) })).toBe(6);
      expect(batches.length).toBe(4); // 2 + 2 + 2 + 0: one statement per batch
      expect((await repo.list()).map((r) => r.tool_name)).toEqual(['recent']);
      expect(Number((await repo.list())[0]?.id)).toBe(recent);
      expect(await repo.insert(hookRow(now, 'next'))).toBeGreaterThan(lastOld);
      expect(await repo.prune(cutoff)).toBe(0);
    });

    it("hook events: a session's start is kept (project stats find the session's folder through it)", async () => {
      const repo = new HookEventsRepo(t.store);
      const start = await repo.insert({ ...hookRow(old, 'start'), event: 'SessionStart', session_id: 'kept-session', cwd: '/projects/kept' });
      await repo.insert({ ...hookRow(old, 'tool'), session_id: 'kept-session' });
      await repo.prune(cutoff);
      const left = await repo.list({ sessionId: 'kept-session' });
      expect(left.map((r) => Number(r.id))).toEqual([start]);
    });

    it('hook events: a prune asked to stop ends after its batch', async () => {
      const repo = new HookEventsRepo(t.store);
      for (let i = 0; i < 5; i++) await repo.insert(hookRow(old + i, `old${i}`));
      expect(await repo.prune(cutoff, { batch: 2, stopped: ((n) => () => n++ > 0)(0) })).toBe(2);
      expect((await repo.list()).length).toBe(3);
    });

    it('hook events and sidecar events: a statement deletes at most maxBytes of payload (at least one row)', async () => {
      const repo = new HookEventsRepo(t.store);
      for (let i = 0; i < 3; i++) await repo.insert({ ...hookRow(old + i, `big${i}`), payload: JSON.stringify({ tool_response: 'x'.repeat(1000) }) });
      let statements = 0;
      const counting = { maxBytes: 1500, stopped: () => (statements++, false) };
      expect(await repo.prune(cutoff, counting)).toBe(3);
      expect(statements).toBe(3);
      expect(await repo.list()).toEqual([]);

      const events = new EventsRepo(t.store, { writer });
      for (let i = 0; i < 4; i++) await t.store.db.insertInto('sidecar_events').values({ ...eventRow(old + i, `big${i}`), data: JSON.stringify('é'.repeat(400)) }).execute();
      statements = 0;
      // 802 bytes of data each: two a statement, the newest stays
      expect(await events.prune(cutoff, { maxBytes: 1700, stopped: () => (statements++, false) })).toBe(3);
      expect(statements).toBe(2);
      expect((await t.store.db.selectFrom('sidecar_events').select('topic').execute()).map((r) => r.topic)).toEqual(['big3']);
    });

    it('sidecar events: deletes the old prefix of ids but never the newest event nor one after a kept event', async () => {
      const events = new EventsRepo(t.store, { writer });
      const ids: number[] = [];
      const add = async (created_at: number, topic: string) => {
        const r = await t.store.db.insertInto('sidecar_events').values(eventRow(created_at, topic)).returning('id').executeTakeFirstOrThrow();
        ids.push(Number(r.id));
      };
      for (let i = 0; i < 5; i++) await add(old + i, `old${i}`);
      await add(now, 'recent');
      // an old created_at after a recent one (another daemon's clock): a wait after `recent` still gets it
      await add(old, 'skewed');
      await add(now, 'recent2');
      await add(old, 'newest-old');
      expect(await events.prune(cutoff, { batch: 2 })).toBe(5);
      const left = await t.store.db.selectFrom('sidecar_events').select(['id', 'topic']).orderBy('id').execute();
      expect(left.map((r) => r.topic)).toEqual(['recent', 'skewed', 'recent2', 'newest-old']);
      expect(await events.prune(cutoff)).toBe(0);

      // every event old: all but the newest go, and the next id is above every id handed out
      await t.store.db.updateTable('sidecar_events').set({ created_at: old }).execute();
      expect(await events.prune(cutoff)).toBe(3);
      expect((await t.store.db.selectFrom('sidecar_events').select('id').execute()).map((r) => Number(r.id))).toEqual([ids[ids.length - 1]]);
      const next = await events.insert({ event_type: 'done', topic: 'after', publisher: 'p', agent_id: 'a', issue_id: null, data: null });
      expect(next.id).toBeGreaterThan(Math.max(...ids));
    });

    it('sidecar agents: deletes those expired and last seen before the cutoff; a working token keeps its agent', async () => {
      const agents = new AgentsRepo(t.store, { writer });
      const row = (agent_id: string, at: number, expires_at: number, status = 'completed') => ({ agent_id, agent_type: 'tester', issues: '["i"]', task: null, status, created_at: at, updated_at: at, expires_at });
      await t.store.db
        .insertInto('sidecar_agents')
        .values([
          row('old-1', old, old + 3600_000),
          row('old-2', old, old + 3600_000, 'active'),
          row('old-3', old, old + 3600_000, 'failed'),
          // spawned long ago with a token that still works
          row('long-lived', old, now + 3600_000, 'active'),
          // expired long ago, yet seen recently
          { ...row('seen', old, old + 3600_000), updated_at: now },
          row('recent', now, now + 3600_000, 'active'),
        ])
        .execute();
      expect(await agents.prune(cutoff, { batch: 2 })).toBe(3);
      const left = await t.store.db.selectFrom('sidecar_agents').select('agent_id').orderBy('agent_id').execute();
      expect(left.map((r) => r.agent_id)).toEqual(['long-lived', 'recent', 'seen']);
      expect(await agents.prune(cutoff)).toBe(0);
    });
  });
}

describe('retention and the sidecar memory (SQLite, sole writer)', () => {
  let t: TestStore;
  let writer: SqlWriter;
  const now = Date.now();
  const old = now - 40 * DAY_MS;
  const cutoff = now - 30 * DAY_MS;
  beforeEach(async () => {
    t = await openTestStore('sqlite');
    writer = sqlWriterFor(t.store);
  });
  afterEach(async () => {
    await writer.close();
    await t.cleanup();
  });

  it('pruned events leave the in-memory tail too: a read after an old cursor answers what the store keeps', async () => {
    const events = new EventsRepo(t.store, { tail: true, writer });
    const q = { eventType: '*', issues: '*' as const };
    const published = [];
    for (let i = 0; i < 4; i++) published.push(await events.insert({ event_type: 'done', topic: `t${i}`, publisher: 'p', agent_id: 'a', issue_id: null, data: { i } }));
    // the first three were published 40 days ago
    await t.store.db.updateTable('sidecar_events').set({ created_at: old }).where('id', '<=', published[2]?.id as number).execute();
    expect((await events.after(q, published[0]?.id as number)).map((e) => e.topic)).toEqual(['t1', 't2', 't3']);
    expect(await events.prune(cutoff)).toBe(3);
    expect((await events.after(q, published[0]?.id as number)).map((e) => e.topic)).toEqual(['t3']);
    expect((await events.after(q, 0)).map((e) => e.topic)).toEqual(['t3']);
    const next = await events.insert({ event_type: 'done', topic: 't4', publisher: 'p', agent_id: 'a', issue_id: null, data: null });
    expect((await events.after(q, published[3]?.id as number)).map((e) => e.id)).toEqual([next.id]);
  });

  it('a start loads only the agents the retention keeps, and a prune takes the others out of the figures', async () => {
    const row = (agent_id: string, at: number, expires_at: number, status: string) => ({ agent_id, agent_type: 'tester', issues: '["i"]', task: null, status, created_at: at, updated_at: at, expires_at });
    const many = Array.from({ length: 50 }, (_v, i) => row(`old-${i}`, old, old + 3600_000, i % 2 ? 'completed' : 'failed'));
    await t.store.db
      .insertInto('sidecar_agents')
      .values([...many, row('recent-done', now, now - 1000, 'completed'), row('working', now - 1000, now + 3600_000, 'active')])
      .execute();
    const loaded = new AgentsRepo(t.store, { memory: true, writer });
    await loaded.load({ since: cutoff });
    expect(await loaded.stats()).toEqual({ active: 1, completed: 1, failed: 0, by_type: { tester: 1 } });
    // without a retention (0 days) every agent counts, as before
    const all = new AgentsRepo(t.store, { memory: true, writer });
    await all.load();
    expect(await all.stats()).toMatchObject({ active: 1, completed: 26, failed: 25 });
    expect(await all.prune(cutoff, { batch: 10 })).toBe(50);
    expect(await all.stats()).toEqual({ active: 1, completed: 1, failed: 0, by_type: { tester: 1 } });
  });
});
