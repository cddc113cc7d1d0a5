import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { withStatementCache } from './sqlite-statement-cache.js';

describe('withStatementCache', () => {
  it('prepares each SQL text once and keeps answering after a schema change', async () => {
    const sqlite = new SQLite(':memory:');
    let prepared = 0;
    const prepare = sqlite.prepare.bind(sqlite);
    sqlite.prepare = ((s: string) => {
      prepared++;
      return prepare(s);
    }) as typeof sqlite.prepare;
    const db = new Kysely<{ t: { id: number; v: string } }>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
    await sql`create table t (id integer primary key, v text)`.execute(db);
    for (let i = 0; i < 5; i++) await db.insertInto('t').values({ id: i, v: `v${i}` }).execute();
    const before = prepared;
    for (let i = 0; i < 5; i++) expect(await db.selectFrom('t').select('v').where('id', '=', i).executeTakeFirst()).toEqual({ v: `v${i}` });
    expect(prepared - before).toBe(1);
    await sql`alter table t add column w text default 'x'`.execute(db);
    expect(await db.selectFrom('t').selectAll().where('id', '=', 1).executeTakeFirst()).toEqual({ id: 1, v: 'v1', w: 'x' });
    await db.destroy();
  });

  it('evicts the least recently used statement beyond its bound', () => {
    const sqlite = new SQLite(':memory:');
    const cached = withStatementCache(sqlite, 2);
    const a = cached.prepare('select 1');
    cached.prepare('select 2');
    expect(cached.prepare('select 1')).toBe(a);
    cached.prepare('select 3'); // evicts 'select 2'
    expect(cached.prepare('select 1')).toBe(a);
    const b = cached.prepare('select 2');
    expect(cached.prepare('select 2')).toBe(b);
    cached.close();
  });
});
