import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.js';
import { openTestStore, testDialects } from '../../testing/test-store.js';
import type { TestStore } from '../../testing/test-store.js';
import { testRecord } from '../testing/record.js';
import { ThreadSqliteWriter } from '../../store/sql-writer.js';
import { AnalyticsWriter, isDataError } from './writer.js';

const { logger } = createLogger({ level: 'silent' });

// SQLite always; PostgreSQL too when DATABASE_URL is set (the services suite in CI).
for (const dialect of testDialects()) {
  describe(`analytics rows the database refuses, on ${dialect}`, () => {
    let t: TestStore;
    beforeAll(async () => {
      t = await openTestStore(dialect);
    });
    afterAll(async () => {
      await t.cleanup();
    });
    const ids = async () => (await t.store.db.selectFrom('gateway_requests').select(['request_id', 'model']).orderBy('ts').execute()).map((r) => `${r.request_id}:${r.model}`);

    it.each(dialect === 'sqlite' ? (['store', 'thread'] as const) : (['store'] as const))('a refused row is dropped alone: the rows around it and after it are written, nothing waits behind it (%s)', async (kind) => {
      await t.store.db.deleteFrom('gateway_requests').execute();
      const sql = kind === 'thread' ? new ThreadSqliteWriter(t.store.location, { store: t.store }) : undefined;
      const w = new AnalyticsWriter(t.store, logger, { intervalMs: 10, ...(sql ? { sql } : {}) });
      w.add(testRecord({ id: 'a', ts: 1, model: 'm' }));
      // request_id is NOT NULL: refused for its values on both databases
      w.add(testRecord({ id: null as unknown as string, ts: 2, model: 'm' }));
      w.add(testRecord({ id: 'c', ts: 3, model: 'm' }));
      await w.flush();
      expect(await ids()).toEqual(['a:m', 'c:m']);
      expect(w.dropped).toBe(1);
      expect(w.queued).toBe(0);
      w.add(testRecord({ id: 'd', ts: 4, model: 'm' }));
      await w.close();
      await sql?.close();
      expect(await ids()).toEqual(['a:m', 'c:m', 'd:m']);
    });

    it('a NUL in a client-chosen value is stored (as U+FFFD on PostgreSQL, whose text cannot hold it)', async () => {
      const w = new AnalyticsWriter(t.store, logger, { intervalMs: 10 });
      w.add(testRecord({ id: 'nul', ts: 5, model: 'claude-\u0000x' }));
      await w.close();
      expect(w.dropped).toBe(0);
      const row = await t.store.db.selectFrom('gateway_requests').select('model').where('request_id', '=', 'nul').executeTakeFirst();
      expect(row?.model).toBe(dialect === 'postgres' ? 'claude-\uFFFDx' : 'claude-\u0000x');
      // and it can be found again by the same value (query parameters are cleaned the same way)
      const again = await t.store.db.selectFrom('gateway_requests').select('request_id').where('model', '=', 'claude-\u0000x').executeTakeFirst();
      expect(again?.request_id).toBe('nul');
    });
  });
}

describe('isDataError', () => {
  it('tells refused values from a database that went away', () => {
    expect(isDataError({ code: '22021' })).toBe(true); // PostgreSQL: invalid byte sequence
    expect(isDataError({ code: '23502' })).toBe(true); // not null
    expect(isDataError({ code: 'SQLITE_CONSTRAINT_NOTNULL' })).toBe(true);
    expect(isDataError({ code: 'ECONNREFUSED' })).toBe(false);
    expect(isDataError({ code: '57P01' })).toBe(false); // admin shutdown
    expect(isDataError({ code: 'SQLITE_BUSY' })).toBe(false);
    expect(isDataError(new Error('x'))).toBe(false);
  });
});
