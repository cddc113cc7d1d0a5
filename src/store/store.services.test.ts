import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { PG_IDLE_IN_TRANSACTION_MS } from './store.js';
import { openTestStore } from '../testing/test-store.js';
import { storeContract } from './store-contract.js';

if (process.env.DATABASE_URL) {
  storeContract('postgres');
  describe('store on postgres, beside other schemas', () => {
    it('migrates its own schema while another schema of the database has migration tables already', async () => {
      const first = await openTestStore('postgres');
      try {
        // Kysely took the first schema's kysely_migration_lock for this one's and failed
        const second = await openTestStore('postgres');
        try {
          expect(await second.store.db.selectFrom('gateway_requests').select('id').execute()).toEqual([]);
        } finally {
          await second.cleanup();
        }
      } finally {
        await first.cleanup();
      }
    });

    it('has the server end a transaction left idle (a partitioned instance must not hold the team\'s locks for hours), without a startup parameter', async () => {
      const t = await openTestStore('postgres');
      try {
        const setting = sql<{ v: string }>`select current_setting('idle_in_transaction_session_timeout') as v`;
        const inside = await t.store.db.transaction().execute((tx) => setting.execute(tx));
        expect(inside.rows[0]?.v).toBe(`${PG_IDLE_IN_TRANSACTION_MS / 1000}s`);
        const serializable = await t.store.db.transaction().setIsolationLevel('serializable').execute((tx) => setting.execute(tx));
        expect(serializable.rows[0]?.v).toBe(`${PG_IDLE_IN_TRANSACTION_MS / 1000}s`);
        // outside a transaction (and so for other clients of a pooled connection) the server's default stays
        expect((await setting.execute(t.store.db)).rows[0]?.v).toBe('0');
      } finally {
        await t.cleanup();
      }
    });
  });
} else describe('store on postgres', () => it.skip('skipped: set DATABASE_URL to run the PostgreSQL suite', () => {}));
