import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Migrator, sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { WalAccount } from '../../sidecar/wal-account.js';
import { migrateToLatest, openStore } from '../store.js';
import { ModuleMigrationProvider } from './index.js';

describe('sidecar_005 and sidecar_006: ids from the rowid, no knowledge mark (SQLite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cco-migrate-events-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keep every event and result with its id, continue after the newest, and no longer write sqlite_sequence', async () => {
    const file = join(dir, 'store.db');
    const store = await openStore({ sqlitePath: file, migrate: false });
    const migrator = new Migrator({ db: store.db, provider: new ModuleMigrationProvider('sqlite'), allowUnorderedMigrations: true });
    expect((await migrator.migrateTo('sidecar_004_results_knowledge_at')).error).toBeUndefined();
    const insert = (id: number, topic: string) =>
      sql`insert into sidecar_events (id, event_type, topic, publisher, agent_id, issue_id, data, created_at) values (${id}, 'step', ${topic}, 'architect', 'a-1', 'issue-1', '{"n":1}', 1)`.execute(store.db);
    await insert(1, 'x');
    await insert(7, 'y');
    await sql`insert into sidecar_results (id, issue_id, agent_type, agent_id, status, stored_at, file, bytes, body, knowledge_at) values (5, 'issue-1', 'architect', 'a-1', 'success', 10, '/r/a.json', 2, '{}', 10)`.execute(store.db);
    await migrateToLatest(store.db, 'sqlite');
    const columns = async () => (await sql<{ name: string }>`select name from pragma_table_info('sidecar_results')`.execute(store.db)).rows.map((r) => r.name);
    expect(await columns()).not.toContain('knowledge_at');
    expect(await store.db.selectFrom('sidecar_results').select(['id', 'issue_id', 'agent_type', 'stored_at', 'body']).execute()).toEqual([{ id: 5, issue_id: 'issue-1', agent_type: 'architect', stored_at: 10, body: '{}' }]);
    const resultDdl = await sql<{ sql: string }>`select sql from sqlite_schema where name in ('sidecar_results', 'sidecar_results_issue_type') order by name`.execute(store.db);
    expect(resultDdl.rows[0]?.sql).not.toMatch(/autoincrement/i);
    expect(resultDdl.rows[1]?.sql).toMatch(/unique index/i);

    const rows = await store.db.selectFrom('sidecar_events').select(['id', 'topic', 'data']).orderBy('id').execute();
    expect(rows.map((r) => [r.id, r.topic, r.data])).toEqual([
      [1, 'x', '{"n":1}'],
      [7, 'y', '{"n":1}'],
    ]);
    const indexes = await sql<{ name: string }>`select name from sqlite_schema where type = 'index' and tbl_name = 'sidecar_events' order by name`.execute(store.db);
    expect(indexes.rows.map((r) => r.name)).toEqual(['sidecar_events_type', 'sidecar_events_type_topic']);

    const account = new WalAccount(file);
    account.start();
    const added = await store.db.insertInto('sidecar_events').values({ event_type: 'step', topic: 'z', publisher: 'p', agent_id: 'a', issue_id: null, data: '1', created_at: 2 }).returning('id').executeTakeFirstOrThrow();
    const wal = account.stop();
    account.close();
    expect(added.id).toBe(8);
    expect(wal.byTree.sidecar_events).toBe(1);
    expect(wal.byTree.sqlite_sequence).toBeUndefined();

    // and back down: AUTOINCREMENT again, the events still there
    expect((await migrator.migrateTo('sidecar_004_results_knowledge_at')).error).toBeUndefined();
    const ddl = await sql<{ sql: string }>`select sql from sqlite_schema where name = 'sidecar_events'`.execute(store.db);
    expect(ddl.rows[0]?.sql).toMatch(/autoincrement/i);
    expect(await store.db.selectFrom('sidecar_events').select('id').orderBy('id').execute()).toEqual([{ id: 1 }, { id: 7 }, { id: 8 }]);
    expect(await columns()).toContain('knowledge_at');
    expect(await store.db.selectFrom('sidecar_results').select(['id']).execute()).toEqual([{ id: 5 }]);
    await store.close();
  });
});

describe('migrations on SQLite run in a transaction', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cco-migrate-tx-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a migration that fails half-way leaves nothing of itself (a daemon killed in one starts clean)', async () => {
    const store = await openStore({ sqlitePath: join(dir, 'fail.db'), migrate: false });
    const failing = new Migrator({
      db: store.db,
      provider: {
        getMigrations: async () => ({
          m1: {
            async up(db) {
              await sql`create table half_made (id integer primary key)`.execute(db);
              throw new Error('killed here');
            },
          },
        }),
      },
    });
    expect((await failing.migrateToLatest()).error).toBeInstanceOf(Error);
    const tables = (await sql<{ name: string }>`select name from sqlite_master where name = 'half_made'`.execute(store.db)).rows;
    expect(tables).toEqual([]);
    await store.close();
  });

  it('sidecar_005 takes back a table rebuild that an earlier, untransacted crash left half done', async () => {
    for (const state of ['copy half made', 'table dropped, copy not renamed'] as const) {
      const store = await openStore({ sqlitePath: join(dir, `${state.replaceAll(' ', '-')}.db`), migrate: false });
      const migrator = new Migrator({ db: store.db, provider: new ModuleMigrationProvider('sqlite'), allowUnorderedMigrations: true });
      expect((await migrator.migrateTo('sidecar_004_results_knowledge_at')).error).toBeUndefined();
      await sql`insert into sidecar_events (id, event_type, topic, publisher, agent_id, issue_id, data, created_at) values (3, 'step', 't', 'p', 'a', null, '1', 1)`.execute(store.db);
      await sql`create table sidecar_events_next (id integer primary key, event_type text not null, topic text, publisher text not null, agent_id text not null, issue_id text, data text not null, created_at bigint not null)`.execute(store.db);
      if (state === 'table dropped, copy not renamed') {
        await sql`insert into sidecar_events_next select id, event_type, topic, publisher, agent_id, issue_id, data, created_at from sidecar_events`.execute(store.db);
        await sql`drop table sidecar_events`.execute(store.db);
      }
      await migrateToLatest(store.db, 'sqlite');
      expect(await store.db.selectFrom('sidecar_events').select(['id', 'topic']).execute(), state).toEqual([{ id: 3, topic: 't' }]);
      await store.close();
    }
  });
});
