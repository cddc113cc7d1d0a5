import { sql } from 'kysely';
import type { Migration } from 'kysely';
import { withId } from './columns.js';
import type { MigrationSet } from './types.js';

/**
 * Migrations of the sidecar module's tables. Name each `sidecar_NNN_what`; never edit one that has
 * shipped, add the next instead.
 */
export const sidecarMigrations: MigrationSet = (dialect) => ({
  sidecar_001_results_events_agents: {
    async up(db) {
      await withId(db.schema.createTable('sidecar_results'), dialect)
        .addColumn('issue_id', 'text', (c) => c.notNull())
        .addColumn('agent_type', 'text', (c) => c.notNull())
        .addColumn('agent_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text')
        .addColumn('stored_at', 'bigint', (c) => c.notNull())
        .addColumn('file', 'text', (c) => c.notNull())
        .addColumn('bytes', 'integer', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sidecar_results_issue_type').unique().on('sidecar_results').columns(['issue_id', 'agent_type']).execute();

      await withId(db.schema.createTable('sidecar_events'), dialect)
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('topic', 'text')
        .addColumn('publisher', 'text', (c) => c.notNull())
        .addColumn('agent_id', 'text', (c) => c.notNull())
        .addColumn('issue_id', 'text')
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sidecar_events_type').on('sidecar_events').columns(['event_type', 'id']).execute();

      await db.schema
        .createTable('sidecar_agents')
        .addColumn('agent_id', 'text', (c) => c.primaryKey())
        .addColumn('agent_type', 'text', (c) => c.notNull())
        .addColumn('issues', 'text', (c) => c.notNull())
        .addColumn('task', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();

      if (dialect === 'sqlite') {
        await sql`create virtual table sidecar_knowledge using fts5(issue_id unindexed, agent_type unindexed, kind unindexed, content, created_at unindexed, tokenize = 'porter unicode61')`.execute(db);
      } else {
        await withId(db.schema.createTable('sidecar_knowledge'), dialect)
          .addColumn('issue_id', 'text', (c) => c.notNull())
          .addColumn('agent_type', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('content', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('tsv', sql`tsvector generated always as (to_tsvector('english', content)) stored`)
          .execute();
        await sql`create index sidecar_knowledge_tsv on sidecar_knowledge using gin (tsv)`.execute(db);
        await db.schema.createIndex('sidecar_knowledge_ref').on('sidecar_knowledge').columns(['issue_id', 'agent_type']).execute();
      }
    },
    async down(db) {
      await db.schema.dropTable('sidecar_knowledge').execute();
      await db.schema.dropTable('sidecar_agents').execute();
      await db.schema.dropTable('sidecar_events').execute();
      await db.schema.dropTable('sidecar_results').execute();
    },
  },
  sidecar_002_agent_indexes: {
    async up(db) {
      await db.schema.createIndex('sidecar_agents_created').on('sidecar_agents').column('created_at').execute();
    },
    async down(db) {
      await db.schema.dropIndex('sidecar_agents_created').execute();
    },
  },
  sidecar_003_events_topic_index: {
    // waits filter by type and topic after a cursor: without topic in the index every event of
    // the type after the cursor was read and compared
    async up(db) {
      await db.schema.createIndex('sidecar_events_type_topic').on('sidecar_events').columns(['event_type', 'topic', 'id']).execute();
    },
    async down(db) {
      await db.schema.dropIndex('sidecar_events_type_topic').execute();
    },
  },
  sidecar_004_results_knowledge_at: {
    // knowledge entries are indexed in batches after the result is acknowledged: a row says
    // which version of it is indexed, so a start indexes what a crash left out
    async up(db) {
      await db.schema.alterTable('sidecar_results').addColumn('knowledge_at', 'bigint').execute();
      await sql`update sidecar_results set knowledge_at = stored_at`.execute(db);
    },
    async down(db) {
      await db.schema.alterTable('sidecar_results').dropColumn('knowledge_at').execute();
    },
  },
  sidecar_005_events_rowid_ids: {
    // SQLite: event ids from the rowid (max + 1) instead of AUTOINCREMENT, which rewrites the
    // sqlite_sequence page in every commit that inserts an event: one WAL page of ~6 per loop
    // iteration of the sidecar benchmark. Ids stay monotonic because events are never deleted
    // (whatever deletes some one day must keep the newest). PostgreSQL's bigserial is unchanged.
    async up(db) {
      if (dialect === 'sqlite') await rebuildEvents(db, 'integer primary key');
    },
    async down(db) {
      if (dialect === 'sqlite') await rebuildEvents(db, 'integer primary key autoincrement');
    },
  },
  sidecar_006_results_rowid_ids_no_knowledge_mark: {
    // Which version of a result is indexed is read from the index itself (each entry carries its
    // version's stored_at): the mark on the row cost one more rewrite of it per result. SQLite:
    // also ids from the rowid, as events' (sidecar_005): an upsert of an AUTOINCREMENT table
    // rewrites sqlite_sequence even when it updates. Results are never deleted; a reused id
    // would be harmless anyway (indexing a result first deletes its id's entries).
    async up(db) {
      if (dialect === 'postgres') await db.schema.alterTable('sidecar_results').dropColumn('knowledge_at').execute();
      else await rebuildResults(db, 'integer primary key', false);
    },
    async down(db) {
      if (dialect === 'postgres') await db.schema.alterTable('sidecar_results').addColumn('knowledge_at', 'bigint').execute();
      // knowledge_at null: the next start of the older version indexes every result again
      else await rebuildResults(db, 'integer primary key autoincrement', true);
    },
  },
  sidecar_007_knowledge_words: {
    // PostgreSQL: the text is indexed word by word, as SQLite's FTS5 (unicode61) splits it and as
    // queries are split. `to_tsvector` alone kept file names, hosts, e-mail addresses and versions
    // as single tokens (`users.py`, `node.js`, `v1.2.3`), which no query of plain words matched.
    async up(db) {
      if (dialect !== 'postgres') return;
      await sql`drop index if exists sidecar_knowledge_tsv`.execute(db);
      await sql`alter table sidecar_knowledge drop column tsv`.execute(db);
      await sql`alter table sidecar_knowledge add column tsv tsvector generated always as (to_tsvector('english', regexp_replace(content, '[^[:alnum:]]+', ' ', 'g'))) stored`.execute(db);
      await sql`create index sidecar_knowledge_tsv on sidecar_knowledge using gin (tsv)`.execute(db);
    },
    async down(db) {
      if (dialect !== 'postgres') return;
      await sql`drop index if exists sidecar_knowledge_tsv`.execute(db);
      await sql`alter table sidecar_knowledge drop column tsv`.execute(db);
      await sql`alter table sidecar_knowledge add column tsv tsvector generated always as (to_tsvector('english', content)) stored`.execute(db);
      await sql`create index sidecar_knowledge_tsv on sidecar_knowledge using gin (tsv)`.execute(db);
    },
  },
});

type Db = Parameters<Migration['up']>[0];

/**
 * SQLite: replaces `table` by a copy whose id column is declared `id` (with or without
 * AUTOINCREMENT, which only a new table can change), other columns `columns` (DDL), keeping every
 * row and its id, then makes `indexes` again (dropping the table dropped them).
 */
async function rebuildWithId(db: Db, table: string, id: string, columns: string, indexes: (db: Db) => Promise<void>): Promise<void> {
  const names = ['id', ...columns.split(',').map((c) => c.trim().split(' ')[0] as string)].join(', ');
  // What a crash in this step left before migrations ran in a transaction: a copy half made (the
  // table is still there: start again), or made with the table already dropped (the copy is the
  // table: take it back first).
  const tables = new Set((await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name in (${table}, ${`${table}_next`})`.execute(db)).rows.map((r) => r.name));
  if (tables.has(`${table}_next`)) {
    if (tables.has(table)) await sql`drop table ${sql.raw(`${table}_next`)}`.execute(db);
    else await sql`alter table ${sql.raw(`${table}_next`)} rename to ${sql.raw(table)}`.execute(db);
  }
  await sql`create table ${sql.raw(`${table}_next`)} (id ${sql.raw(id)}, ${sql.raw(columns)})`.execute(db);
  await sql`insert into ${sql.raw(`${table}_next`)} (${sql.raw(names)}) select ${sql.raw(names)} from ${sql.raw(table)} order by id`.execute(db);
  await sql`drop table ${sql.raw(table)}`.execute(db);
  await sql`alter table ${sql.raw(`${table}_next`)} rename to ${sql.raw(table)}`.execute(db);
  await indexes(db);
}

const RESULT_COLUMNS = 'issue_id text not null, agent_type text not null, agent_id text not null, status text, stored_at bigint not null, file text not null, bytes integer not null, body text not null';

/** sidecar_results with its id declared `id`; `knowledgeAt`: with the (empty) column of sidecar_004. */
const rebuildResults = (db: Db, id: string, knowledgeAt: boolean): Promise<void> =>
  rebuildWithId(db, 'sidecar_results', id, RESULT_COLUMNS, async (d) => {
    if (knowledgeAt) await d.schema.alterTable('sidecar_results').addColumn('knowledge_at', 'bigint').execute();
    await d.schema.createIndex('sidecar_results_issue_type').unique().on('sidecar_results').columns(['issue_id', 'agent_type']).execute();
  });

/** sidecar_events with its id declared `id`. */
const rebuildEvents = (db: Db, id: string): Promise<void> =>
  rebuildWithId(db, 'sidecar_events', id, 'event_type text not null, topic text, publisher text not null, agent_id text not null, issue_id text, data text not null, created_at bigint not null', async (d) => {
    await d.schema.createIndex('sidecar_events_type').on('sidecar_events').columns(['event_type', 'id']).execute();
    await d.schema.createIndex('sidecar_events_type_topic').on('sidecar_events').columns(['event_type', 'topic', 'id']).execute();
  });
