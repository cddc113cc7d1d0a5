import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from './store.js';
import type { Store } from './store.js';
import { walBacklog } from './wal-checkpoint.js';

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('walBacklog', () => {
  it("reads the pages no checkpoint has copied yet from the file's -shm header", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cco-wal-backlog-'));
    dirs.push(dir);
    const file = join(dir, 'cco.db');
    const store = await openStore({ sqlitePath: file });
    stores.push(store);
    await sql`pragma wal_autocheckpoint = 0`.execute(store.db);
    await sql`create table filler (id integer primary key, body text not null)`.execute(store.db);
    await sql`pragma wal_checkpoint(TRUNCATE)`.execute(store.db);
    const shm = store.shmFd?.() as number;
    expect(shm).toBeTypeOf('number');
    expect(walBacklog(shm)).toBe(0);
    // ~200 rows of 2 KB: about 100 pages of 4 KB, and the pages of the table's b-tree above them
    await store.db.transaction().execute(async (trx) => {
      for (let i = 0; i < 200; i++) await sql`insert into filler (body) values (${'x'.repeat(2000)})`.execute(trx);
    });
    expect(walBacklog(shm)).toBeGreaterThan(90);
    await sql`pragma wal_checkpoint(PASSIVE)`.execute(store.db);
    expect(walBacklog(shm)).toBe(0);
    // one descriptor for the store's life
    expect(store.shmFd?.()).toBe(shm);
  });

  it('an in-memory store has no -shm descriptor', async () => {
    const store = await openStore({ sqlitePath: ':memory:' });
    stores.push(store);
    expect(store.shmFd?.()).toBeUndefined();
  });
});
