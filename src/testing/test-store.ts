import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore } from '../store/store.js';
import type { Dialect, Store } from '../store/store.js';

export interface TestStore {
  store: Store;
  cleanup(): Promise<void>;
}

/** The dialects a store suite runs against here: SQLite always, PostgreSQL when DATABASE_URL is set. */
export function testDialects(): Dialect[] {
  return process.env.DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];
}

/**
 * A fresh, migrated store: a SQLite file in a temp dir, or a PostgreSQL schema of its own
 * (dropped on cleanup) so concurrent test files never see each other's rows.
 */
export async function openTestStore(dialect: Dialect = 'sqlite'): Promise<TestStore> {
  if (dialect === 'postgres') {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error('DATABASE_URL is not set');
    const schema = `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
    const dropSchema = async (): Promise<void> => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await c.end();
      }
    };
    let store: Store;
    try {
      store = await openStore({ databaseUrl: url, pgSchema: schema, pgPoolSize: 4 });
    } catch (e) {
      // a store that failed to open (its migration) leaves no schema behind
      await dropSchema().catch(() => undefined);
      throw e;
    }
    return {
      store,
      async cleanup() {
        await store.close();
        await dropSchema();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'cco-store-'));
  const store = await openStore({ sqlitePath: join(dir, 'test.db') });
  return {
    store,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
