import { describe, expect, it } from 'vitest';
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
  });
} else describe('store on postgres', () => it.skip('skipped: set DATABASE_URL to run the PostgreSQL suite', () => {}));
