import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { walBacklog } from './wal-checkpoint.js';
import { SQLITE_WAL_LIMIT_BYTES, openStore } from './store.js';
import type { Store } from './store.js';

// a limit a test can pass quickly (the default is 64 MB)
const LIMIT = 256 * 1024;

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function fileStore(): Promise<{ store: Store; file: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'cco-wal-size-'));
  dirs.push(dir);
  const file = join(dir, 'cco.db');
  const store = await openStore({ sqlitePath: file, sqliteWalLimitBytes: LIMIT });
  stores.push(store);
  await sql`create table filler (id integer primary key, body text not null)`.execute(store.db);
  return { store, file };
}

const walBytes = (file: string): number => {
  try {
    return statSync(`${file}-wal`).size;
  } catch {
    return 0;
  }
};

/** One commit of `rows` × 2 KB (a burst the WAL cannot restart under). */
async function fill(s: Store, rows: number): Promise<void> {
  await s.db.transaction().execute(async (trx) => {
    for (let i = 0; i < rows; i++) await sql`insert into filler (body) values (${'x'.repeat(2000)})`.execute(trx);
  });
}

describe('the WAL file of a SQLite store', () => {
  it("is cut back to the limit by the store connection's commit that restarts it", async () => {
    const { store, file } = await fileStore();
    expect(store.walLimitBytes).toBe(LIMIT);
    await fill(store, 1000);
    expect(walBytes(file)).toBeGreaterThan(4 * LIMIT);
    await sql`pragma wal_checkpoint(PASSIVE)`.execute(store.db);
    expect(walBacklog(store.shmFd?.() as number)).toBe(0);
    // the next write starts the WAL again from its beginning, and its commit truncates the file
    await sql`insert into filler (body) values ('small')`.execute(store.db);
    expect(walBytes(file)).toBeLessThanOrEqual(LIMIT);
    expect(Number((await sql<{ n: number }>`select count(*) as n from filler`.execute(store.db)).rows[0]?.n)).toBe(1001);
  });

  it('defaults to 64 MB', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cco-wal-size-'));
    dirs.push(dir);
    const store = await openStore({ sqlitePath: join(dir, 'cco.db') });
    stores.push(store);
    expect(store.walLimitBytes).toBe(SQLITE_WAL_LIMIT_BYTES);
    const limit = await sql<{ journal_size_limit: number }>`pragma journal_size_limit`.execute(store.db);
    expect(Number(limit.rows[0]?.journal_size_limit)).toBe(64 * 1024 * 1024);
  });
});
