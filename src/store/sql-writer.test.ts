import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import SQLite from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from './store.js';
import type { Store } from './store.js';
import { openTestStore } from '../testing/test-store.js';
import type { TestStore } from '../testing/test-store.js';
import { StoreWriter, ThreadSqliteWriter, sqlWriterFor, step } from './sql-writer.js';
import type { SqlWriter, WriteStep } from './sql-writer.js';

const stores: TestStore[] = [];
const writers: SqlWriter[] = [];
afterEach(async () => {
  for (const w of writers.splice(0)) await w.close();
  for (const t of stores.splice(0)) await t.cleanup();
});

async function setup(kind: 'thread' | 'store'): Promise<{ t: TestStore; w: SqlWriter }> {
  const t = await openTestStore('sqlite');
  stores.push(t);
  const w = kind === 'thread' ? new ThreadSqliteWriter(t.store.location) : new StoreWriter(t.store);
  writers.push(w);
  return { t, w };
}

function insertEvent(t: TestStore, topic: string): WriteStep {
  return step(t.store.db.insertInto('sidecar_events').values({ event_type: 'e', topic, publisher: 'p', agent_id: 'a', issue_id: null, data: '{}', created_at: 1 }).returning('id'));
}

const topics = async (t: TestStore): Promise<string[]> => (await t.store.db.selectFrom('sidecar_events').select('topic').orderBy('id').execute()).map((r) => String(r.topic));

describe.each(['thread', 'store'] as const)('SqlWriter (%s)', (kind) => {
  it('runs the steps as one transaction, answers the rows each returned, and the store sees the commit at once', async () => {
    const { t, w } = await setup(kind);
    const ins = step(sql`insert into sidecar_knowledge (rowid, issue_id, agent_type, kind, content, created_at) values (${7007}, ${'i'}, ${'t'}, ${'decision'}, ${'use sqlite'}, ${1})`.compile(t.store.db));
    const rows = await w.run([insertEvent(t, 'a'), insertEvent(t, 'b'), ins]);
    const [a, b] = rows.map((r) => Number(r[0]?.id));
    expect(b).toBe((a as number) + 1);
    expect(rows[2]).toEqual([]);
    expect(await topics(t)).toEqual(['a', 'b']);
    const fts = await sql<{ rowid: number }>`select rowid from sidecar_knowledge where sidecar_knowledge match 'sqlite'`.execute(t.store.db);
    expect(fts.rows.map((r) => Number(r.rowid))).toEqual([7007]);
  });

  it('runs an `each` step once per row an earlier step returned, and not at all for none', async () => {
    const { t, w } = await setup(kind);
    await w.run(['a', 'b', 'c', 'd'].map((x) => insertEvent(t, x)));
    const pick = (from: number) => step(sql`select id from sidecar_events where topic in ('a', 'c', 'zz') and id >= ${from} order by id`.compile(t.store.db));
    const del = (from: number) => step(sql`delete from sidecar_events where id = ${0} and id >= ${from}`.compile(t.store.db), { step: 0, col: 'id', param: 0 });
    const rows = await w.run([pick(0), del(0)]);
    expect(rows[0]).toHaveLength(2);
    expect(rows[1]).toEqual([]);
    expect(await topics(t)).toEqual(['b', 'd']);
    // no row: the step runs no statement
    await w.run([pick(1_000_000), del(0)]);
    expect(await topics(t)).toEqual(['b', 'd']);
  });

  it('commits nothing of a transaction whose step fails, reports the error, and goes on with the next', async () => {
    const { t, w } = await setup(kind);
    await w.run([insertEvent(t, 'kept')]);
    const bad = step(sql`insert into no_such_table values (1)`.compile(t.store.db));
    await expect(w.run([insertEvent(t, 'rolled-back'), bad])).rejects.toThrow(/no_such_table/);
    await w.run([insertEvent(t, 'next')]);
    expect(await topics(t)).toEqual(['kept', 'next']);
  });

  it('keeps transactions given at the same time apart: one failing fails only itself', async () => {
    const { t, w } = await setup(kind);
    const bad = step(sql`insert into no_such_table values (1)`.compile(t.store.db));
    const out = await Promise.allSettled([w.run([insertEvent(t, 'a')]), w.run([insertEvent(t, 'b'), bad]), w.run([insertEvent(t, 'c')]), w.run([insertEvent(t, 'd')])]);
    expect(out.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(await topics(t)).toEqual(['a', 'c', 'd']);
  });

  it('refuses transactions once closed, after finishing those already given', async () => {
    const { t, w } = await setup(kind);
    const given = Array.from({ length: 20 }, (_x, i) => w.run([insertEvent(t, `t${i}`)]));
    await w.close();
    await Promise.all(given);
    expect(await topics(t)).toHaveLength(20);
    await expect(w.run([insertEvent(t, 'late')])).rejects.toThrow(/closed/);
    expect(await topics(t)).toHaveLength(20);
  });
});

describe('ThreadSqliteWriter', () => {
  it('fails the transactions of a thread that dies (none committed) and starts a new thread for the next', async () => {
    const { t, w } = await setup('thread');
    const thread = w as ThreadSqliteWriter;
    await w.run([insertEvent(t, 'before')]);
    thread.crashForTest();
    // posted after the crash: the dead thread never runs it
    await expect(w.run([insertEvent(t, 'lost')])).rejects.toThrow(/writer thread (failed|exited)/);
    await w.run([insertEvent(t, 'after')]);
    expect(await topics(t)).toEqual(['before', 'after']);
  });

  it('runs a transaction given with `first` ahead of those still waiting without it', async () => {
    const { t, w } = await setup('thread');
    const inFlight = w.run([insertEvent(t, 'x')]);
    // both wait while x is with the thread
    const a = w.run([insertEvent(t, 'a')]);
    const b = w.run([insertEvent(t, 'b')], { first: true });
    const c = w.run([insertEvent(t, 'c')], { first: true });
    await Promise.all([inFlight, a, b, c]);
    expect(await topics(t)).toEqual(['x', 'b', 'c', 'a']);
  });

  it('posts a transaction given with `now` at once, while a message is with the thread, each still all or nothing', async () => {
    const { t, w } = await setup('thread');
    const bad = step(sql`insert into no_such_table values (1)`.compile(t.store.db));
    const inFlight = w.run([insertEvent(t, 'x')]);
    // waits on this thread for x's answer
    const queued = w.run([insertEvent(t, 'q')]);
    // posted at once: they reach the thread before q, and the thread commits them together
    const now = [w.run([insertEvent(t, 'n1')], { now: true }), w.run([insertEvent(t, 'n2'), bad], { now: true }), w.run([insertEvent(t, 'n3')], { now: true })];
    const out = await Promise.allSettled([inFlight, queued, ...now]);
    expect(out.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(await topics(t)).toEqual(['x', 'n1', 'n3', 'q']);
    // a close waits for what was posted before it
    const late = Array.from({ length: 12 }, (_x, i) => w.run([insertEvent(t, `late${i}`)], { now: true }));
    await w.close();
    await Promise.all(late);
    expect(await topics(t)).toHaveLength(16);
  });

  it('after a thread that could not start, starts no other for a while: writes fail at once, saying when it tries again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cco-writer-down-'));
    // a folder that is not there: the thread cannot open its file
    const w = new ThreadSqliteWriter(join(dir, 'gone', 'cco.db'));
    try {
      const t0 = performance.now();
      await expect(w.run([{ sql: 'select 1', parameters: [] }])).rejects.toThrow(/store writer thread (failed|exited).*a new one starts in 0\.25 s/);
      await expect(w.run([{ sql: 'select 1', parameters: [] }])).rejects.toThrow(/a new one starts in 0\.25 s/);
      // the second failed without a thread of its own
      expect(performance.now() - t0).toBeLessThan(250);
      await new Promise((r) => setTimeout(r, 300));
      // tried again, failed again: twice the wait
      await expect(w.run([{ sql: 'select 1', parameters: [] }])).rejects.toThrow(/a new one starts in 0\.5 s/);
    } finally {
      await w.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a statement first sent while the write lock was busy past the timeout works once the lock is free (it is prepared outside the transaction)', async () => {
    const t = await openTestStore('sqlite');
    stores.push(t);
    const w = new ThreadSqliteWriter(t.store.location, { store: t.store, busyTimeoutMs: 100 });
    writers.push(w);
    await w.run([insertEvent(t, 'warm')]);
    // another connection (a re-index, another process) holds the write lock
    const other = new SQLite(t.store.location);
    other.exec('begin immediate');
    const newText = step(sql`insert into sidecar_events (event_type, topic, publisher, agent_id, data, created_at) values ('e', ${'during'}, 'p', 'a', '{}', 2)`.compile(t.store.db));
    await expect(w.run([newText])).rejects.toThrow(/locked|busy/i);
    other.exec('commit');
    other.close();
    // the same text: before, "unknown statement" until the process restarted
    await w.run([{ ...newText, parameters: ['after'] }]);
    await w.run([{ ...newText, parameters: ['again'] }]);
    expect(await topics(t)).toEqual(['warm', 'after', 'again']);
  });

  it.each(['first', 'now'] as const)('a transaction given with `%s` ahead of the queued one that first carried its statement still runs it', async (how) => {
    const t = await openTestStore('sqlite');
    stores.push(t);
    const w = new ThreadSqliteWriter(t.store.location, { store: t.store });
    writers.push(w);
    await w.run([insertEvent(t, 'warm')]);
    const text = (topic: string) => step(sql`insert into sidecar_events (event_type, topic, publisher, agent_id, data, created_at) values ('e', ${topic}, 'p', 'a', '{}', 3)`.compile(t.store.db));
    const inFlight = w.run([insertEvent(t, 'in flight')]);
    // queued behind the message in flight, the first to use this text
    const queued = w.run([text('queued')]);
    // the same text, moved ahead of it (first) or posted at once (now)
    const ahead = w.run([text('ahead')], { [how]: true });
    const out = await Promise.allSettled([inFlight, queued, ahead]);
    expect(out.map((o) => (o.status === 'rejected' ? String(o.reason) : 'ok'))).toEqual(['ok', 'ok', 'ok']);
    expect((await topics(t)).sort()).toEqual(['ahead', 'in flight', 'queued', 'warm']);
  });

  it("keeps the process's locks on the -shm file when its thread dies or closes (only the store's descriptor, closed after its connection)", async () => {
    const t = await openTestStore('sqlite');
    stores.push(t);
    const shm = `${t.store.location}-shm`;
    // POSIX locks of this process on the file (Linux /proc/locks: "... <pid> <major>:<minor>:<inode> ...")
    const locks = (): number => {
      const inode = statSync(shm).ino;
      return readFileSync('/proc/locks', 'utf8')
        .split('\n')
        .filter((l) => l.includes(` ${process.pid} `) && l.includes(`:${inode} `)).length;
    };
    const w = new ThreadSqliteWriter(t.store.location, { store: t.store });
    writers.push(w);
    await w.run([insertEvent(t, 'a')]);
    const held = locks();
    expect(held).toBeGreaterThan(0);
    w.crashForTest();
    await w.run([insertEvent(t, 'b')]).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    // a thread that opened and closed a descriptor of its own took them all with it
    expect(locks()).toBeGreaterThan(0);
    await w.run([insertEvent(t, 'c')]);
    await w.close();
    expect(locks()).toBeGreaterThan(0);
    expect(await topics(t)).toContain('c');
  });

  it('warm() starts no thread while one that could not start waits out its backoff', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cco-writer-warm-'));
    const w = new ThreadSqliteWriter(join(dir, 'gone', 'cco.db'));
    try {
      await expect(w.run([{ sql: 'select 1', parameters: [] }])).rejects.toThrow(/a new one starts in 0\.25 s/);
      // an agent's first requests warm the writer: before, each started a thread and doubled the wait
      for (let i = 0; i < 5; i++) {
        w.warm();
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 300));
      await expect(w.run([{ sql: 'select 1', parameters: [] }])).rejects.toThrow(/a new one starts in 0\.5 s/);
    } finally {
      await w.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps a page cache of the store's size (better-sqlite3's default is 16 MB)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cco-writer-cache-'));
    const store = await openStore({ sqlitePath: join(dir, 'cco.db'), sqliteCacheKib: 1234 });
    const w = new ThreadSqliteWriter(store.location, { store });
    try {
      const [rows] = await w.run([{ sql: 'pragma cache_size', parameters: [] }]);
      expect(rows).toEqual([{ cache_size: -1234 }]);
    } finally {
      await w.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives each SQL text to the thread once, and runs texts beyond its statement limit inline', async () => {
    const { t, w } = await setup('thread');
    // 300 distinct texts (a literal each) and the first one again
    const text = (i: number): WriteStep => step(sql`insert into sidecar_events (event_type, topic, publisher, agent_id, data, created_at) values ('e', ${sql.lit(`x${i}`)}, 'p', 'a', '{}', ${i})`.compile(t.store.db));
    for (let i = 0; i < 300; i++) await w.run([text(i)]);
    await w.run([text(0)]);
    const got = await topics(t);
    expect(got).toHaveLength(301);
    expect(got.at(-1)).toBe('x0');
    expect(new Set(got).size).toBe(300);
  });

  it('keeps statement and savepoint journals in memory (each transaction of a message is a savepoint)', async () => {
    const { w } = await setup('thread');
    // with temp files, every insert inside a savepoint also wrote its statement journal to one
    const [rows] = await w.run([{ sql: 'pragma temp_store', parameters: [] }]);
    expect(rows).toEqual([{ temp_store: 2 }]);
  });

  it('writes while the store holds a read transaction open (WAL), and is used for SQLite files only', async () => {
    const { t, w } = await setup('thread');
    // read only: the store's read-write transactions take the write lock first (sqlite-nonblocking.ts)
    await t.store.db.transaction().setAccessMode('read only').execute(async (trx) => {
      await trx.selectFrom('sidecar_events').selectAll().execute();
      await w.run([insertEvent(t, 'during')]);
    });
    expect(await topics(t)).toEqual(['during']);
    expect(sqlWriterFor(t.store).kind).toBe('thread');
    const mem = await openStore({ sqlitePath: ':memory:' });
    expect(sqlWriterFor(mem).kind).toBe('store');
    await mem.close();
  });
});

describe('WAL checkpoints while the write thread runs', () => {
  const autoCheckpoint = async (t: TestStore): Promise<number> => {
    const r = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(t.store.db);
    return Number(r.rows[0]?.wal_autocheckpoint);
  };

  it("are the thread's: the store's commits copy no pages, the thread checkpoints what they wrote, and gives checkpoints back when it stops", async () => {
    const t = await openTestStore('sqlite');
    stores.push(t);
    expect(await autoCheckpoint(t)).toBe(1000);
    // what the migrations left in the WAL goes to the database first, so that the file size only
    // moves with the checkpoint of the commit below
    await sql`pragma wal_checkpoint(TRUNCATE)`.execute(t.store.db);
    const w = new ThreadSqliteWriter(t.store.location, { store: t.store, checkpointMs: 400 });
    w.warm();
    expect(await autoCheckpoint(t)).toBe(0);
    const dbBytes = (): number => statSync(t.store.location).size;
    const before = dbBytes();
    // ~1,500 pages into the WAL in one commit of the store's connection (past SQLite's 1,000)
    const blob = 'x'.repeat(4000);
    await t.store.db.transaction().execute(async (trx) => {
      for (let i = 0; i < 1500; i++) await sql`insert into sidecar_events (event_type, topic, publisher, agent_id, data, created_at) values ('e', 't', 'p', 'a', ${blob}, 1)`.execute(trx);
    });
    // the commit did not checkpoint: the database file has not grown
    expect(dbBytes()).toBe(before);
    // the thread's timer checkpoints it
    const until = Date.now() + 5000;
    while (dbBytes() < before + 4_000_000 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(dbBytes()).toBeGreaterThanOrEqual(before + 4_000_000);
    await w.close();
    expect(await autoCheckpoint(t)).toBe(1000);
  });

  it("of the thread's own commits run after their answer: a commit past 1,000 pages resolves before its pages are copied, and they are copied before the next message", async () => {
    const t = await openTestStore('sqlite');
    stores.push(t);
    await sql`pragma wal_checkpoint(TRUNCATE)`.execute(t.store.db);
    // no timer within the test: only the thread's checkpoint after a round copies pages
    const w = new ThreadSqliteWriter(t.store.location, { store: t.store, checkpointMs: 600_000 });
    writers.push(w);
    const dbBytes = (): number => statSync(t.store.location).size;
    const before = dbBytes();
    const blob = 'x'.repeat(4000);
    const big = Array.from({ length: 1200 }, () => step(sql`insert into sidecar_events (event_type, topic, publisher, agent_id, data, created_at) values ('e', 't', 'p', 'a', ${blob}, 1)`.compile(t.store.db)));
    await w.run(big);
    // answered first: SQLite's automatic checkpoint would have grown the file inside the commit
    expect(dbBytes()).toBe(before);
    // the next message is taken once the checkpoint is done
    await w.run([insertEvent(t, 'after')]);
    expect(dbBytes()).toBeGreaterThanOrEqual(before + 4_000_000);
    // a small commit leaves the backlog under the mark: nothing more is copied
    const copied = dbBytes();
    await w.run([insertEvent(t, 'small')]);
    await w.run([insertEvent(t, 'small 2')]);
    expect(dbBytes()).toBe(copied);
  });

  it('go back to the store when the thread dies, and to the thread again when the next write starts one', async () => {
    const t = await openTestStore('sqlite');
    stores.push(t);
    const w = new ThreadSqliteWriter(t.store.location, { store: t.store });
    writers.push(w);
    await w.run([insertEvent(t, 'a')]);
    expect(await autoCheckpoint(t)).toBe(0);
    w.crashForTest();
    const until = Date.now() + 5000;
    while ((await autoCheckpoint(t)) !== 1000 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(await autoCheckpoint(t)).toBe(1000);
    await w.run([insertEvent(t, 'b')]);
    expect(await autoCheckpoint(t)).toBe(0);
    expect(await topics(t)).toEqual(['a', 'b']);
  });
});

describe('the WAL file while the write thread runs', () => {
  const LIMIT = 256 * 1024;
  async function smallLimitStore(): Promise<{ t: TestStore; store: Store; file: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'cco-wal-'));
    const file = join(dir, 'test.db');
    const store = await openStore({ sqlitePath: file, sqliteWalLimitBytes: LIMIT });
    const t: TestStore = {
      store,
      async cleanup() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    stores.push(t);
    await sql`pragma wal_checkpoint(TRUNCATE)`.execute(store.db);
    return { t, store, file };
  }
  const walBytes = (file: string): number => statSync(`${file}-wal`).size;
  const blob = 'x'.repeat(4000);
  const bigEvent = (s: Store): WriteStep => step(sql`insert into sidecar_events (event_type, topic, publisher, agent_id, data, created_at) values ('e', 't', 'p', 'a', ${blob}, 1)`.compile(s.db));

  it("past the store's limit after a burst of the store's commits, is truncated by the thread's periodic checkpoint with no further write", async () => {
    const { store, file } = await smallLimitStore();
    const w = new ThreadSqliteWriter(file, { store, checkpointMs: 100 });
    writers.push(w);
    // one sidecar write starts the thread: the store's connection no longer checkpoints
    await w.run([bigEvent(store)]);
    // hook posts: ~1,200 pages from the store's connection
    await store.db.transaction().execute(async (trx) => {
      for (let i = 0; i < 1200; i++) await sql`insert into sidecar_events (event_type, topic, publisher, agent_id, data, created_at) values ('e', 't', 'p', 'a', ${blob}, 1)`.execute(trx);
    });
    expect(walBytes(file)).toBeGreaterThan(4 * LIMIT);
    const until = Date.now() + 5000;
    while (walBytes(file) > LIMIT && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(walBytes(file)).toBeLessThanOrEqual(LIMIT);
    expect(Number((await sql<{ n: number }>`select count(*) as n from sidecar_events`.execute(store.db)).rows[0]?.n)).toBe(1201);
  });

  it("is cut back to the limit by the thread's own commit that restarts it", async () => {
    const { t, store, file } = await smallLimitStore();
    // no timer within the test: only the thread's checkpoint after a round runs
    const w = new ThreadSqliteWriter(file, { store, checkpointMs: 600_000 });
    writers.push(w);
    await w.run(Array.from({ length: 1200 }, () => bigEvent(store)));
    expect(walBytes(file)).toBeGreaterThan(4 * LIMIT);
    // copied after that answer (past 1,000 pages); the next message starts the WAL again and its commit truncates it
    await w.run([insertEvent(t, 'after')]);
    expect(walBytes(file)).toBeLessThanOrEqual(LIMIT);
  });
});
