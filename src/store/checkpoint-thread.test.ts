import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointThread, walBacklog } from './checkpoint-thread.js';
import { openStore } from './store.js';
import type { Store } from './store.js';

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function fileStore(): Promise<{ store: Store; file: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'cco-ckpt-'));
  dirs.push(dir);
  const file = join(dir, 'cco.db');
  const store = await openStore({ sqlitePath: file });
  stores.push(store);
  await sql`create table filler (id integer primary key, body text not null)`.execute(store.db);
  return { store, file };
}

const autoCheckpoint = async (s: Store) => Number(Object.values((await sql<Record<string, number>>`pragma wal_autocheckpoint`.execute(s.db)).rows[0] ?? {})[0]);

async function fill(s: Store, rows: number): Promise<void> {
  for (let i = 0; i < rows; i += 50) {
    await s.db.transaction().execute(async (trx) => {
      for (let j = 0; j < 50; j++) await sql`insert into filler (body) values (${'x'.repeat(2000)})`.execute(trx);
    });
  }
}

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('not in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('CheckpointThread', () => {
  it('takes the WAL checkpoints off the store connection while it runs, and gives them back', async () => {
    const { store, file } = await fileStore();
    const t = new CheckpointThread(store, { tickMs: 20, pages: 100, maxDelayMs: 60_000 });
    t.start();
    expect(t.running).toBe(true);
    expect(await autoCheckpoint(store)).toBe(0);
    // ~1,000 pages of WAL: the store's connection no longer checkpoints, the thread does
    await fill(store, 2000);
    await until(() => (walBacklog(file) ?? Infinity) < 100);
    await t.stop();
    expect(t.running).toBe(false);
    expect(walBacklog(file)).toBe(0); // a last checkpoint when it stops
    expect(await autoCheckpoint(store)).toBe(1000);
  });

  it('without the thread, nothing is checkpointed before 1,000 pages (the backlog it would take over)', async () => {
    const { store, file } = await fileStore();
    const t = new CheckpointThread(store);
    t.start();
    await t.stop();
    await sql`pragma wal_autocheckpoint = 0`.execute(store.db);
    await fill(store, 600);
    await new Promise((r) => setTimeout(r, 100));
    expect(walBacklog(file)).toBeGreaterThan(300);
  });

  it('on demand: a touch starts it, touches keep it, and it stops and gives checkpoints back once idle', async () => {
    const { store } = await fileStore();
    const t = new CheckpointThread(store, { tickMs: 20, idleStopMs: 300 });
    expect(t.running).toBe(false);
    expect(await autoCheckpoint(store)).toBe(1000);
    t.touch();
    expect(t.running).toBe(true);
    expect(await autoCheckpoint(store)).toBe(0);
    // touched more often than the idle time: it keeps running
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 100));
      t.touch();
    }
    expect(t.running).toBe(true);
    await until(() => !t.running, 3000);
    // its stop ends by giving the checkpoints back to the store's connection
    for (let i = 0; i < 100 && (await autoCheckpoint(store)) !== 1000; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await autoCheckpoint(store)).toBe(1000);
    t.touch(); // and again on the next write
    expect(t.running).toBe(true);
    await t.stop();
    expect(await autoCheckpoint(store)).toBe(1000);
  });

  it('does nothing for a store that is not a SQLite file', async () => {
    const store = await openStore({ sqlitePath: ':memory:' });
    stores.push(store);
    const t = new CheckpointThread(store);
    t.start();
    expect(t.running).toBe(false);
    await t.stop();
    expect(walBacklog(join(tmpdir(), 'no-such-cco.db'))).toBeUndefined();
  });
});
