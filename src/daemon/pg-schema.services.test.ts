import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startTestDaemon } from '../testing/test-daemon.js';

const url = process.env.DATABASE_URL;

if (!url) describe('[storage] pg_schema', () => it.skip('skipped: set DATABASE_URL to run the PostgreSQL suite', () => {}));
else
  describe('[storage] pg_schema', () => {
    it("keeps CCO's tables and migration records in a schema of its own, beside another application's `users` in the same database", async () => {
      const db = `cco_pgschema_${randomBytes(4).toString('hex')}`;
      const ours = 'cco';
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`create database ${db}`);
      const target = new URL(url);
      target.pathname = `/${db}`;
      try {
        // another application's database: its `users` in public, where a connection looks first
        const app = new pg.Client({ connectionString: target.toString() });
        await app.connect();
        await app.query('create table users (id serial primary key, email text, role text)');
        const t = await startTestDaemon({ config: (c) => ({ ...c, storage: { ...c.storage, database_url: target.toString(), pg_schema: ours } }) });
        try {
          expect((await fetch(`${t.url}/health`)).status).toBe(200);
          const tables = await app.query<{ table_schema: string; table_name: string }>(`select table_schema, table_name from information_schema.tables where table_name in ('users', 'gateway_requests', 'kysely_migration')`);
          const where = tables.rows.map((r) => `${r.table_schema}.${r.table_name}`).sort();
          // was: "Database migration auth_001_users failed: relation "users" already exists"
          expect(where).toEqual([`${ours}.gateway_requests`, `${ours}.kysely_migration`, `${ours}.users`, 'public.users'].sort());
        } finally {
          await t.cleanup();
          await app.end();
        }
      } finally {
        await admin.query(`drop database if exists ${db} with (force)`);
        await admin.end();
      }
    }, 30_000);
  });
