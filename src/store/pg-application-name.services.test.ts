import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PG_APPLICATION_NAME, openStore } from './store.js';
import type { Store, StoreOptions } from './store.js';

const base = process.env.DATABASE_URL;

/** The test URL with `?application_name=` set. */
const withAppName = (url: string, name: string): string => {
  const u = new URL(url);
  u.searchParams.set('application_name', name);
  return u.toString();
};

/** Opens a store without migrating (only its connections matter here), runs `f`, closes it. */
async function withStore<T>(opts: StoreOptions, f: (s: Store) => Promise<T>): Promise<T> {
  const store = await openStore({ migrate: false, ...opts });
  try {
    return await f(store);
  } finally {
    await store.close();
  }
}

const ownAppName = async (s: Store): Promise<string | undefined> =>
  (await sql<{ name: string }>`select application_name as name from pg_stat_activity where pid = pg_backend_pid()`.execute(s.db)).rows[0]?.name;

/** The distinct server connections that `n` queries run at once used (each holds its connection 300 ms). */
async function connectionsUsedBy(s: Store, n: number): Promise<number> {
  const pids = await Promise.all(
    Array.from({ length: n }, async () => (await sql<{ pid: number }>`select pg_backend_pid() as pid, pg_sleep(0.3)`.execute(s.db)).rows[0]?.pid),
  );
  return new Set(pids).size;
}

if (base) {
  describe('the store’s PostgreSQL connections', () => {
    // PGAPPNAME would name the connections instead of the default
    beforeEach(() => vi.stubEnv('PGAPPNAME', undefined));
    afterEach(() => vi.unstubAllEnvs());

    it('show up in pg_stat_activity as cco-orchestrator (the guide’s application_name LIKE \'%orchestrator%\')', async () => {
      await withStore({ databaseUrl: base }, async (s) => {
        expect(await ownAppName(s)).toBe(PG_APPLICATION_NAME);
        const mine = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where application_name like '%orchestrator%' and pid = pg_backend_pid()`.execute(s.db);
        expect(mine.rows[0]?.n).toBe(1);
      });
    });

    it('take the name the opener gives (the daemon, cco proxy)', async () => {
      await withStore({ databaseUrl: base, pgApplicationName: 'cco-orchestrator-proxy' }, async (s) => expect(await ownAppName(s)).toBe('cco-orchestrator-proxy'));
    });

    it('take the URL’s own application_name over any default', async () => {
      await withStore({ databaseUrl: withAppName(base, 'team-api'), pgApplicationName: 'cco-orchestrator-daemon' }, async (s) => expect(await ownAppName(s)).toBe('team-api'));
    });

    it('are at most 10 by default, and as many as pgPoolSize says', async () => {
      await withStore({ databaseUrl: base }, async (s) => expect(await connectionsUsedBy(s, 14)).toBe(10));
      await withStore({ databaseUrl: base, pgPoolSize: 12 }, async (s) => expect(await connectionsUsedBy(s, 14)).toBe(12));
    });
  });
} else describe('store connections on postgres', () => it.skip('skipped: set DATABASE_URL to run the PostgreSQL suite', () => {}));
