import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { whenUnlocked } from './sqlite-nonblocking.js';
import { openStore } from './store.js';
import type { Store } from './store.js';

/**
 * A second connection on its own thread (as the sidecar's write thread) takes the write lock and
 * holds it until the main thread says so: the release comes from a timer on the main thread, so
 * it can only happen if the event loop keeps running while the store waits for the lock.
 */
function lockHolder(file: string): { locked: Promise<void>; release(): void; done: Promise<void> } {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    const Database = require(workerData.module);
    const db = new Database(workerData.file);
    db.prepare('begin immediate').run();
    db.prepare("insert into t (v) values ('thread')").run();
    parentPort.postMessage('locked');
    Atomics.wait(workerData.flag, 0, 0, 10000);
    db.prepare('commit').run();
    db.close();
    parentPort.postMessage('released');
    `,
    { eval: true, workerData: { file, module: createRequire(import.meta.url).resolve('better-sqlite3'), flag } },
  );
  const on = (what: string) => new Promise<void>((resolve, reject) => {
    worker.on('message', (m) => m === what && resolve());
    worker.on('error', reject);
  });
  const locked = on('locked');
  const done = on('released').then(() => worker.terminate().then(() => undefined));
  return {
    locked,
    release() {
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
    },
    done,
  };
}

describe('store on a SQLite file with a second writer', () => {
  let dir: string;
  let store: Store;
  let file: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cco-nonblocking-'));
    file = join(dir, 'cco.db');
    store = await openStore({ sqlitePath: file });
    await sql`create table t (id integer primary key, v text)`.execute(store.db);
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('waits for the lock without stopping the event loop, then writes', async () => {
    const holder = lockHolder(file);
    await holder.locked;
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    // released by a timer: if the insert slept in SQLite, this would never run and it would fail
    const releaseAt = setTimeout(() => holder.release(), 150);
    const t0 = performance.now();
    try {
      await sql`insert into t (v) values ('main')`.execute(store.db);
    } finally {
      clearInterval(ticker);
      clearTimeout(releaseAt);
      holder.release();
    }
    await holder.done;
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    expect(ticks).toBeGreaterThanOrEqual(10);
    const rows = await sql<{ v: string }>`select v from t order by id`.execute(store.db);
    // the thread's insert committed first: the store's waited for it
    expect(rows.rows.map((r) => r.v)).toEqual(['thread', 'main']);
  });

  it('starts transactions with the write lock, so a read-then-write transaction waits instead of failing', async () => {
    const holder = lockHolder(file);
    await holder.locked;
    setTimeout(() => holder.release(), 100);
    const n = await store.db.transaction().execute(async (trx) => {
      // the snapshot is taken after the thread's commit: its row is seen
      const before = await sql<{ n: number }>`select count(*) as n from t`.execute(trx);
      await sql`insert into t (v) values ('main')`.execute(trx);
      return Number(before.rows[0]?.n);
    });
    await holder.done;
    expect(n).toBe(1);
    const rows = await sql<{ n: number }>`select count(*) as n from t`.execute(store.db);
    expect(Number(rows.rows[0]?.n)).toBe(2);
  });

  it('gives up with SQLITE_BUSY once the lock stays taken past the limit', async () => {
    let calls = 0;
    const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    const t0 = performance.now();
    await expect(whenUnlocked(() => {
      calls++;
      throw busy;
    }, 40)).rejects.toBe(busy);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(40);
    expect(calls).toBeGreaterThan(3);
  });

  it('does not retry once SQLite has ended the transaction the statement belonged to', async () => {
    let calls = 0;
    const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    await expect(whenUnlocked(() => {
      calls++;
      throw busy;
    }, 1000, () => false)).rejects.toBe(busy);
    expect(calls).toBe(1);
  });

  it('a transaction SQLite has already ended (a full disk) fails with its own error, not "cannot rollback"', async () => {
    const real = new Error('database or disk is full');
    await expect(
      store.db.transaction().execute(async (trx) => {
        await sql`insert into t (v) values ('gone')`.execute(trx);
        // what SQLite does itself on SQLITE_FULL or SQLITE_IOERR: the transaction is over
        await sql`rollback`.execute(trx);
        throw real;
      }),
    ).rejects.toBe(real);
    const rows = await sql<{ n: number }>`select count(*) as n from t`.execute(store.db);
    expect(Number(rows.rows[0]?.n)).toBe(0);
  });

  it('does not retry other errors', async () => {
    let calls = 0;
    const other = Object.assign(new Error('no such table: nope'), { code: 'SQLITE_ERROR' });
    await expect(whenUnlocked(() => {
      calls++;
      throw other;
    })).rejects.toBe(other);
    expect(calls).toBe(1);
  });
});

describe('read-only transactions on SQLite', () => {
  it('take no write lock: another connection writes while one is open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cco-nonblocking-'));
    const file = join(dir, 'cco.db');
    const store = await openStore({ sqlitePath: file });
    try {
      await sql`create table t (id integer primary key, v text)`.execute(store.db);
      const seen = await store.db.transaction().setAccessMode('read only').execute(async (trx) => {
        const before = await sql<{ n: number }>`select count(*) as n from t`.execute(trx);
        const holder = lockHolder(file);
        await holder.locked;
        holder.release();
        await holder.done;
        // the snapshot still shows the table as it was
        const after = await sql<{ n: number }>`select count(*) as n from t`.execute(trx);
        return [Number(before.rows[0]?.n), Number(after.rows[0]?.n)];
      });
      expect(seen).toEqual([0, 0]);
      const rows = await sql<{ n: number }>`select count(*) as n from t`.execute(store.db);
      expect(Number(rows.rows[0]?.n)).toBe(1);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
